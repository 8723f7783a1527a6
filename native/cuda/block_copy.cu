// block_copy.cu: see block_copy.cuh.
#include "block_copy.cuh"

#include <cuda_runtime.h>

#include "status.cuh"

namespace folio {

__global__ void __launch_bounds__(kBlockMoveThreads)
    block_move_kernel(const uint64_t* __restrict__ src_ptrs, const uint64_t* __restrict__ dst_ptrs,
                      const int32_t* __restrict__ pairs, int32_t src_num_blocks, int32_t dst_num_blocks,
                      int64_t block_vecs) {
    const int64_t pair = blockIdx.x;
    const int cache = blockIdx.y;
    const int32_t src_block = pairs[2 * pair];
    const int32_t dst_block = pairs[2 * pair + 1];
    if (src_block < 0 || src_block >= src_num_blocks || dst_block < 0 || dst_block >= dst_num_blocks) return;
    const uint4* src = reinterpret_cast<const uint4*>(src_ptrs[cache]) + src_block * block_vecs;
    uint4* dst = reinterpret_cast<uint4*>(dst_ptrs[cache]) + dst_block * block_vecs;
    constexpr int64_t kStep = (int64_t)kBlockMoveThreads * kBlockMoveUnroll;
    int64_t i = threadIdx.x;
    for (; i + (kBlockMoveUnroll - 1) * kBlockMoveThreads < block_vecs; i += kStep) {
        uint4 v[kBlockMoveUnroll];
#pragma unroll
        for (int u = 0; u < kBlockMoveUnroll; ++u) v[u] = src[i + u * kBlockMoveThreads];
#pragma unroll
        for (int u = 0; u < kBlockMoveUnroll; ++u) dst[i + u * kBlockMoveThreads] = v[u];
    }
    for (; i < block_vecs; i += kBlockMoveThreads) dst[i] = src[i];
}

}  // namespace folio

extern "C" int32_t folio_block_copy(const uint64_t* cache_ptrs, int32_t num_caches, const int32_t* pairs,
                                    int32_t num_pairs, int32_t num_blocks, int64_t block_bytes, void* stream) {
    FOLIO_REQUIRE(num_caches >= 0 && num_caches <= 65535, "block_copy: num_caches must be in [0, 65535] (got %d)",
                  num_caches);
    FOLIO_REQUIRE(num_pairs >= 0, "block_copy: num_pairs must be >= 0 (got %d)", num_pairs);
    FOLIO_REQUIRE(num_blocks >= 0, "block_copy: num_blocks must be >= 0 (got %d)", num_blocks);
    FOLIO_REQUIRE(block_bytes > 0 && block_bytes % 16 == 0,
                  "block_copy: block_bytes must be a positive multiple of 16 (got %lld)", (long long)block_bytes);
    if (num_caches == 0 || num_pairs == 0) return folio::ok();
    FOLIO_REQUIRE(cache_ptrs && pairs, "block_copy: cache_ptrs and pairs must be non-null");
    dim3 grid(num_pairs, num_caches);
    folio::block_move_kernel<<<grid, folio::kBlockMoveThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        cache_ptrs, cache_ptrs, pairs, num_blocks, num_blocks, block_bytes / 16);
    return folio::check_launch("block_copy");
}
