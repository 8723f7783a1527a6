// read_floor.cu: the fastest a single launch reads N bytes from device memory, to put the split-KV decode's
// batch-1 figure (GQA 1 x 8k: 33.5 MB in one launch) beside a floor (bench/NOTES-kernels.md runs 46, 47, 52).
// read_chunks: each CTA reads one contiguous chunk (as a split-KV CTA reads its split) with 16-byte loads, U of
// them in flight per thread, and folds them into a value that is stored only if it hits an impossible value, so
// the loads stay. With prefetch = 1 each CTA first asks L2 for its whole chunk (cp.async.bulk.prefetch). With
// merge = 1 the CTAs then meet as the decode's splits do (a release-acquire counter per group of `splits` CTAs;
// the last CTA of a group reads the group's partials), to price the merge tail on its own.
// read_bulk: the same chunks through the copy engine (cp.async.bulk into a shared-memory ring, sm_90).
//   nvcc -O3 -arch=sm_90 -shared -Xcompiler -fPIC -o build/read_floor.so bench/read_floor.cu
// Called from bench/read_floor.py (ctypes), timed there as bench/kernels.py times every kernel.
#include <cstdint>
#include <cuda_runtime.h>

namespace {

template <int U>
__global__ void read_chunks(const uint4* __restrict__ src, long long n16, float* __restrict__ partial,
                            unsigned* __restrict__ counters, int splits, int merge, int prefetch,
                            float* __restrict__ sink) {
    const long long chunk = (n16 + gridDim.x - 1) / gridDim.x;
    const long long begin = (long long)blockIdx.x * chunk;
    const long long end = begin + chunk < n16 ? begin + chunk : n16;
    if (prefetch) {
        // Ask L2 for the whole chunk at once (cp.async.bulk.prefetch, sm_90), 16 KB per request.
        const char* p = reinterpret_cast<const char*>(src + begin);
        const long long bytes = (end - begin) * 16;
        for (long long o = (long long)threadIdx.x * 16384; o < bytes; o += (long long)blockDim.x * 16384) {
            const unsigned len = (unsigned)(bytes - o < 16384 ? bytes - o : 16384);
            asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(p + o), "r"(len) : "memory");
        }
    }
    float acc = 0.f;
    const long long step = blockDim.x;
    // U loads per thread per round, all issued before any is used (out-of-range ones predicated off), so the
    // chunk's last round has as many loads in flight as the others.
    for (long long i = begin + threadIdx.x; i < end; i += U * step) {
        uint4 v[U];
#pragma unroll
        for (int u = 0; u < U; ++u) v[u] = i + u * step < end ? __ldcs(src + i + u * step) : make_uint4(0, 0, 0, 0);
#pragma unroll
        for (int u = 0; u < U; ++u) acc += __uint_as_float((v[u].x ^ v[u].y) & 0x3f800000u) + __uint_as_float(v[u].w & 0x3f800000u);
    }
    if (!merge) {
        if (acc == -1.25f) sink[0] = acc;  // never true for these inputs: keeps the loads without a store
        return;
    }
    // The decode's merge: per group, each CTA writes a partial, counts itself in, the last reads all partials.
    __shared__ float red[32];
    __shared__ bool last;
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = acc;
    __syncthreads();
    const int group = blockIdx.x / splits;
    if (threadIdx.x == 0) {
        float s = 0.f;
        for (int w = 0; w < (int)blockDim.x / 32; ++w) s += red[w];
        partial[blockIdx.x] = s;
        unsigned prev;
        asm volatile("atom.acq_rel.gpu.global.add.u32 %0, [%1], 1;" : "=r"(prev) : "l"(counters + group) : "memory");
        last = prev == (unsigned)splits - 1;
    }
    __syncthreads();
    if (!last) return;
    float s = 0.f;
    for (int k = threadIdx.x; k < splits; k += blockDim.x) s += __ldcg(partial + group * splits + k);
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (threadIdx.x == 0) {
        counters[group] = 0;  // ready for the next launch
        if (s == -1.25f) sink[0] = s;
    }
}

template <int U>
cudaError_t launch(const void* src, long long bytes, float* partial, unsigned* counters, int ctas, int threads,
                   int splits, int mode, float* sink, cudaStream_t stream) {
    read_chunks<U><<<ctas, threads, 0, stream>>>(static_cast<const uint4*>(src), bytes / 16, partial, counters,
                                                 splits, mode & 1, (mode >> 1) & 1, sink);
    return cudaGetLastError();
}

// The same chunks read by the copy engine instead (cp.async.bulk, sm_90): thread 0 streams the CTA's chunk into a
// ring of STAGES shared-memory pieces of up to PIECE bytes, each completing on its own mbarrier; every thread then
// reads 16 bytes of each piece (so a piece is used before its stage is refilled).
template <int STAGES>
__global__ void read_bulk(const char* __restrict__ src, long long bytes, int piece, float* __restrict__ sink) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    extern __shared__ __align__(128) unsigned char ring[];
    __shared__ __align__(8) unsigned long long bar[STAGES];
    // Chunks of a multiple of 16 bytes (the copies' alignment); the last CTA also takes what rounding left.
    const long long stride = (bytes / gridDim.x) & ~15LL;
    const char* begin = src + (long long)blockIdx.x * stride;
    const long long chunk = blockIdx.x + 1 == gridDim.x ? bytes - (long long)blockIdx.x * stride : stride;
    const int pieces = (int)((chunk + piece - 1) / piece);
    auto smem = [](const void* p) { return (unsigned)__cvta_generic_to_shared(p); };
    auto issue = [&](int p) {
        const int s = p % STAGES;
        const unsigned len = (unsigned)(chunk - (long long)p * piece < piece ? chunk - (long long)p * piece : piece);
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem(&bar[s])), "r"(len) : "memory");
        asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                         smem(ring + (size_t)s * piece)),
                     "l"(begin + (long long)p * piece), "r"(len), "r"(smem(&bar[s]))
                     : "memory");
    };
    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; ++s) asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem(&bar[s])));
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
        for (int p = 0; p < pieces && p < STAGES; ++p) issue(p);
    }
    __syncthreads();
    float acc = 0.f;
    for (int p = 0; p < pieces; ++p) {
        const int s = p % STAGES;
        const unsigned parity = (unsigned)(p / STAGES) & 1u;
        unsigned done = 0;
        while (!done) {
            asm volatile("{ .reg .pred q; mbarrier.try_wait.parity.shared::cta.b64 q, [%1], %2; selp.u32 %0, 1, 0, q; }"
                         : "=r"(done)
                         : "r"(smem(&bar[s])), "r"(parity)
                         : "memory");
        }
        const uint4 v = reinterpret_cast<const uint4*>(ring + (size_t)s * piece)[threadIdx.x % (piece / 16)];
        acc += __uint_as_float((v.x ^ v.y) & 0x3f800000u);
        __syncthreads();  // stage s is read by every thread before it is refilled
        if (threadIdx.x == 0 && p + STAGES < pieces) issue(p + STAGES);
    }
    if (acc == -1.25f) sink[0] = acc;
#endif
}

__global__ void empty_kernel() {}

}  // namespace

// unroll: 4, 8 or 16 loads in flight per thread. mode: bit 0 the merge, bit 1 an L2 bulk prefetch of each CTA's
// chunk first (sm_90). partial: ctas floats; counters: ctas / splits zeroed uints.
extern "C" int read_floor(const void* src, long long bytes, float* partial, unsigned* counters, int ctas, int threads,
                          int unroll, int splits, int mode, float* sink, void* stream) {
    const auto s = static_cast<cudaStream_t>(stream);
    cudaError_t e;
    switch (unroll) {
        case 4: e = launch<4>(src, bytes, partial, counters, ctas, threads, splits, mode, sink, s); break;
        case 8: e = launch<8>(src, bytes, partial, counters, ctas, threads, splits, mode, sink, s); break;
        case 16: e = launch<16>(src, bytes, partial, counters, ctas, threads, splits, mode, sink, s); break;
        default: return -1;
    }
    return (int)e;
}

// The copy-engine read: stages 4, 8 or 12 pieces of `piece` bytes (a multiple of 16) in flight per CTA.
extern "C" int read_floor_bulk(const void* src, long long bytes, int ctas, int threads, int piece, int stages,
                               float* sink, void* stream) {
    const auto s = static_cast<cudaStream_t>(stream);
    const size_t smem = (size_t)piece * stages;
    auto go = [&](auto kernel) {
        cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        if (e != cudaSuccess) return (int)e;
        kernel<<<ctas, threads, smem, s>>>(static_cast<const char*>(src), bytes, piece, sink);
        return (int)cudaGetLastError();
    };
    switch (stages) {
        case 4: return go(read_bulk<4>);
        case 8: return go(read_bulk<8>);
        case 12: return go(read_bulk<12>);
        default: return -1;
    }
}

extern "C" int empty_launch(void* stream) {
    empty_kernel<<<1, 32, 0, static_cast<cudaStream_t>(stream)>>>();
    return (int)cudaGetLastError();
}
