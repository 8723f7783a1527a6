// gemm_invariant.cu: a plain tiled fp32 GEMM whose every output element is one thread's fma chain over k = 0, 1,
// ..., k-1 (then + bias). cuBLASLt picks its algorithm (tile shape, split-K) by m, so the same row can round
// differently in a batch of 1 and a batch of 200; the engine's fp32 mode uses this kernel instead, so that a
// request's tokens do not depend on what else runs (the exactness-under-load test). Speed is secondary: it is a
// 64 x 64 tile, 16-deep k slices staged in shared memory, 4 x 4 outputs per thread.
#include <cuda_runtime.h>
#include <stdint.h>

#include "gemm_invariant.cuh"
#include "status.cuh"

namespace folio {
namespace {

constexpr int kTile = 64;      // rows of x and of weight per CTA
constexpr int kSlice = 16;     // k per shared-memory stage
constexpr int kThreads = 256;  // 16 x 16 threads, 4 x 4 outputs each

__global__ void __launch_bounds__(kThreads)
    gemm_f32_invariant_kernel(float* __restrict__ out, const float* __restrict__ x, const float* __restrict__ w,
                              const float* __restrict__ bias, int m, int n, int k) {
    // Stored k-major so a thread's 4 rows (or columns) are 4 consecutive floats; +4 keeps rows 16-byte aligned.
    __shared__ __align__(16) float xs[kSlice][kTile + 4];
    __shared__ __align__(16) float ws[kSlice][kTile + 4];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const int row0 = blockIdx.y * kTile, col0 = blockIdx.x * kTile;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < k; k0 += kSlice) {
        // 64 x 16 of each operand: 1024 values, 4 per thread; zero outside the matrix (fma with 0 leaves acc as is).
        for (int i = threadIdx.x; i < kTile * kSlice; i += kThreads) {
            const int r = i / kSlice, c = i % kSlice, kk = k0 + c;
            xs[c][r] = (row0 + r < m && kk < k) ? x[(int64_t)(row0 + r) * k + kk] : 0.f;
            ws[c][r] = (col0 + r < n && kk < k) ? w[(int64_t)(col0 + r) * k + kk] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int c = 0; c < kSlice; ++c) {
            const float4 a = *reinterpret_cast<const float4*>(&xs[c][ty * 4]);
            const float4 b = *reinterpret_cast<const float4*>(&ws[c][tx * 4]);
            const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int r = row0 + ty * 4 + i;
        if (r >= m) break;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int c = col0 + tx * 4 + j;
            if (c < n) out[(int64_t)r * n + c] = bias ? acc[i][j] + bias[c] : acc[i][j];
        }
    }
}

}  // namespace

int32_t gemm_batch_invariant_f32(const folio_cuda_gemm_params& p, cudaStream_t stream) {
    const dim3 grid((p.n + kTile - 1) / kTile, (p.m + kTile - 1) / kTile);
    FOLIO_REQUIRE(grid.y <= 65535u, "gemm: m (%d) too large for the batch-invariant kernel", p.m);
    gemm_f32_invariant_kernel<<<grid, kThreads, 0, stream>>>(
        static_cast<float*>(p.out), static_cast<const float*>(p.x), static_cast<const float*>(p.weight),
        static_cast<const float*>(p.bias), p.m, p.n, p.k);
    return check_launch("gemm (batch-invariant)");
}

}  // namespace folio
