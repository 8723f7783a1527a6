// block_swap.cu: see block_swap.cuh.
#include "block_swap.cuh"

#include <cuda_runtime.h>

#include "block_copy.cuh"

extern "C" int32_t folio_block_swap_out(const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params,
                                        void* stream) {
    return folio::block_move(cache, params, folio::BlockMove::SwapOut, static_cast<cudaStream_t>(stream));
}

extern "C" int32_t folio_block_swap_in(const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params,
                                       void* stream) {
    return folio::block_move(cache, params, folio::BlockMove::SwapIn, static_cast<cudaStream_t>(stream));
}
