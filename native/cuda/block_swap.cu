// block_swap.cu: see block_swap.cuh.
#include "block_swap.cuh"

#include <cuda_runtime.h>

#include "block_copy.cuh"
#include "status.cuh"

extern "C" int32_t folio_block_swap(const uint64_t* src_ptrs, const uint64_t* dst_ptrs, int32_t num_caches,
                                    const int32_t* pairs, int32_t num_pairs, int32_t src_num_blocks,
                                    int32_t dst_num_blocks, int64_t block_bytes, void* stream) {
    FOLIO_REQUIRE(num_caches >= 0 && num_caches <= 65535, "block_swap: num_caches must be in [0, 65535] (got %d)",
                  num_caches);
    FOLIO_REQUIRE(num_pairs >= 0, "block_swap: num_pairs must be >= 0 (got %d)", num_pairs);
    FOLIO_REQUIRE(src_num_blocks >= 0 && dst_num_blocks >= 0,
                  "block_swap: src_num_blocks (%d) and dst_num_blocks (%d) must be >= 0", src_num_blocks,
                  dst_num_blocks);
    FOLIO_REQUIRE(block_bytes > 0 && block_bytes % 16 == 0,
                  "block_swap: block_bytes must be a positive multiple of 16 (got %lld)", (long long)block_bytes);
    if (num_caches == 0 || num_pairs == 0) return folio::ok();
    FOLIO_REQUIRE(src_ptrs && dst_ptrs && pairs, "block_swap: src_ptrs, dst_ptrs and pairs must be non-null");
    dim3 grid(num_pairs, num_caches);
    folio::block_move_kernel<<<grid, folio::kBlockMoveThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        src_ptrs, dst_ptrs, pairs, src_num_blocks, dst_num_blocks, block_bytes / 16);
    return folio::check_launch("block_swap");
}
