// cp_async_probe.cu: how many L2 sectors a warp's 16-byte cp.async gather costs, by pattern (bench/NOTES-kernels.md
// run 17). Nsight Compute counted 1.5x the ideal L2 sectors for the decode kernel's gather and 1x for cuDNN's
// SDPA kernel on the same bytes; this isolates the copy. Each CTA (4 warps) streams a private region of a
// large buffer into shared memory, one 16-row x 256-byte tile per warp at a time, 3 tiles in flight.
//   nvcc -O3 -arch=sm_90 -o /tmp/cp_async_probe bench/cp_async_probe.cu
//   ncu --metrics lts__t_sectors_srcunit_tex_op_read.sum,gpu__time_duration.sum /tmp/cp_async_probe
// Variants (one launch each, printed in order):
//   0 linear: lanes 0-15 one row, 16-31 the next; shared rows of 256 bytes (what a plain copy does)
//   1 padded: the same, shared rows of 272 bytes (the decode kernel's layout)
//   2 linear + zero-fill operand (src-size register)
//   3 linear + .L2::128B prefetch hint
//   4 padded + zero-fill + hint (the decode kernel's exact copy)
//   5 linear, K and V: two buffers, each pass copies a K row piece then a V row piece (the kernel's order)
//   6 linear, lanes 0-7 / 8-15 / 16-23 / 24-31 on 128-byte pieces of 4 rows
//   7 16-byte XOR swizzle: chunk c of row r at c ^ (r & 7) (conflict-free ldmatrix)
//   8 32-byte XOR swizzle: chunk pair p of row r at p ^ (r & 3), pairs kept in order
//   9 linear, shared base 16 bytes past a 128-byte boundary (as after a static __shared__ int)
#include <cstdio>
#include <cstdint>
#include <cuda_runtime.h>

namespace {

constexpr int kWarps = 4;
constexpr int kRows = 16;       // rows per warp tile
constexpr int kRowBytes = 256;  // head_dim 128 x 2 bytes
constexpr int kStages = 3;

// Shared-memory bytes per row of variant V: padded rows for 1 and 4 (the decode kernel's old layout).
template <int V>
__host__ __device__ constexpr int stride_of() { return (V == 1 || V == 4) ? kRowBytes + 16 : kRowBytes; }

__device__ __forceinline__ uint32_t smem_u32(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }

template <int V>
__device__ __forceinline__ void copy16(void* dst, const void* src) {
    if (V == 2) {
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(dst)), "l"(src), "r"(16));
    } else if (V == 3) {
        asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16;\n" ::"r"(smem_u32(dst)), "l"(src));
    } else if (V == 4) {
        asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16, %2;\n" ::"r"(smem_u32(dst)), "l"(src),
                     "r"(16));
    } else {
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_u32(dst)), "l"(src));
    }
}

template <int V>
__global__ void __launch_bounds__(kWarps * 32) probe(const uint8_t* __restrict__ k, const uint8_t* __restrict__ v,
                                                    int tiles_per_warp, unsigned long long* sink) {
    constexpr int kStride = stride_of<V>();
    constexpr int kTileBytes = kRows * kStride;
    constexpr int kBuffers = V == 5 ? 2 : 1;
    extern __shared__ __align__(128) uint8_t smem[];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    uint8_t* mine = smem + (V == 9 ? 16 : 0) + warp * kStages * kBuffers * kTileBytes;
    const size_t warp_global = (size_t)(blockIdx.x * kWarps + warp) * tiles_per_warp;
    auto issue = [&](int t) {
        uint8_t* st = mine + (t % kStages) * kBuffers * kTileBytes;
        const uint8_t* gk = k + (warp_global + t) * kRows * kRowBytes;
        const uint8_t* gv = v + (warp_global + t) * kRows * kRowBytes;
#pragma unroll
        for (int j = 0; j < 8; ++j) {
            int row, chunk;
            if (V == 6) {
                row = lane / 8 + 4 * (j / 2);
                chunk = lane % 8 + 8 * (j % 2);
            } else {
                row = lane / 16 + 2 * j;
                chunk = lane % 16;
            }
            const int place = V == 7 ? chunk ^ (row & 7) : V == 8 ? (((chunk >> 1) ^ (row & 3)) << 1) | (chunk & 1) : chunk;
            copy16<V>(st + row * kStride + place * 16, gk + row * kRowBytes + chunk * 16);
            if (V == 5) copy16<0>(st + kTileBytes + row * kStride + chunk * 16, gv + row * kRowBytes + chunk * 16);
        }
        asm volatile("cp.async.commit_group;\n" ::);
    };
    for (int s = 0; s < kStages - 1; ++s) issue(s);
    unsigned long long acc = 0;
    for (int t = 0; t < tiles_per_warp; ++t) {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(kStages - 2));
        __syncwarp();
        acc += mine[(t % kStages) * kBuffers * kTileBytes + lane * 8];  // touch the tile
        __syncwarp();
        if (t + kStages - 1 < tiles_per_warp) {
            issue(t + kStages - 1);
        } else {
            asm volatile("cp.async.commit_group;\n" ::);
        }
    }
    if (acc == 0xdeadbeefull) *sink = acc;  // keeps the loads alive
}

template <int V>
float run(const uint8_t* k, const uint8_t* v, int ctas, int tiles, unsigned long long* sink) {
    const int smem = kWarps * kStages * (V == 5 ? 2 : 1) * kRows * stride_of<V>() + (V == 9 ? 16 : 0);
    cudaFuncSetAttribute(probe<V>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    probe<V><<<ctas, kWarps * 32, smem>>>(k, v, tiles, sink);  // warm-up
    cudaEventRecord(a);
    probe<V><<<ctas, kWarps * 32, smem>>>(k, v, tiles, sink);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0.f;
    cudaEventElapsedTime(&ms, a, b);
    return ms;
}

}  // namespace

int main() {
    const int ctas = 132 * 2, tiles = 256;
    const size_t bytes = (size_t)ctas * kWarps * tiles * kRows * kRowBytes;  // 1.1 GB per buffer
    uint8_t *k = nullptr, *v = nullptr;
    unsigned long long* sink = nullptr;
    if (cudaMalloc(&k, bytes) != cudaSuccess || cudaMalloc(&v, bytes) != cudaSuccess ||
        cudaMalloc(&sink, 8) != cudaSuccess) {
        std::printf("cudaMalloc failed\n");
        return 1;
    }
    cudaMemset(k, 1, bytes);
    cudaMemset(v, 2, bytes);
    const char* names[] = {"linear", "padded", "linear+zfill", "linear+L2::128B", "padded+zfill+L2::128B (decode)",
                           "linear K+V", "linear 8-lane pieces", "16-byte swizzle", "32-byte swizzle",
                           "linear, base + 16 bytes"};
    float ms[10] = {run<0>(k, v, ctas, tiles, sink), run<1>(k, v, ctas, tiles, sink), run<2>(k, v, ctas, tiles, sink),
                    run<3>(k, v, ctas, tiles, sink), run<4>(k, v, ctas, tiles, sink), run<5>(k, v, ctas, tiles, sink),
                    run<6>(k, v, ctas, tiles, sink), run<7>(k, v, ctas, tiles, sink), run<8>(k, v, ctas, tiles, sink),
                    run<9>(k, v, ctas, tiles, sink)};
    for (int i = 0; i < 10; ++i) {
        const double moved = (double)bytes * (i == 5 ? 2 : 1);
        std::printf("variant %d %-32s %8.3f ms  %.2f TB/s\n", i, names[i], ms[i], moved / (ms[i] * 1e-3) / 1e12);
    }
    const cudaError_t err = cudaDeviceSynchronize();
    std::printf("%s\n", err == cudaSuccess ? "ok" : cudaGetErrorString(err));
    return err == cudaSuccess ? 0 : 1;
}
