// block_copy.cuh: copy-on-write block copies, every (cache, pair) in one launch.
// Each cache is a base pointer of [num_blocks, block_bytes]; pairs is int32 [num_pairs, 2] = (src, dst).
// One CTA copies one block of one cache with 16-byte accesses, several loads in flight per thread.
#pragma once

#include <cuda_runtime.h>
#include <stdint.h>

#include "folio_cuda.h"

namespace folio {

constexpr int kBlockMoveThreads = 256;
constexpr int kBlockMoveUnroll = 4;  // 16-byte loads in flight per thread before the stores

// Copies block pairs[2p] of src_ptrs[c] to block pairs[2p+1] of dst_ptrs[c] for p = blockIdx.x,
// c = blockIdx.y. Shared by block copy (src_ptrs == dst_ptrs) and block swap (either side host memory).
__global__ void block_move_kernel(const uint64_t* __restrict__ src_ptrs, const uint64_t* __restrict__ dst_ptrs,
                                  const int32_t* __restrict__ pairs, int32_t src_num_blocks,
                                  int32_t dst_num_blocks, int64_t block_vecs);

enum class BlockMove { Copy, SwapOut, SwapIn };

// The three exported block moves (folio_block_copy, folio_block_swap_out, folio_block_swap_in): validation of the
// view and the parameters, then one launch of block_move_kernel with the GPU pool as source or destination.
int32_t block_move(const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params, BlockMove kind,
                   cudaStream_t stream);

}  // namespace folio
