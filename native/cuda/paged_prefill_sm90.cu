// paged_prefill_sm90.cu: the sm_90a (wgmma) prefill kernel; see paged_prefill_sm90.cuh for the design,
// paged_prefill_sm90_tiles.cuh for its layout, gather and softmax, and wgmma_sm90.cuh for the instructions.
// Compiled only for compute_90a (CMake). Earlier variants (no producer warpgroup, 64-key tiles, one CTA per
// item, producer-side fence, rescale skip, ...) and their measurements: bench/NOTES-kernels.md, commit f0c1a9f.
#include "paged_prefill_sm90.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdlib.h>
#include <string.h>

#include <cmath>
#include <type_traits>

#include "folio_cuda.h"
#include "paged_prefill_sm90_tiles.cuh"
#include "status.cuh"
#include "wgmma_sm90.cuh"

#ifndef FOLIO_PREFILL_SM90_DEFAULT
#define FOLIO_PREFILL_SM90_DEFAULT 1
#endif

namespace folio {
namespace {

using namespace sm90_prefill;

// Registers per thread (setmaxnreg): the producer warpgroup gives up what the math warpgroups take, 40 + 2 x 232
// = 504 of 512 per lane of 128. The math warpgroups' pipeline across items (run 29) needs up to R227 (224 spilt
// 16 bytes); the producer fits in 30. (56 / 224 and 40 / 232 timed within noise of each other in runs G and H.)
constexpr int kProducerRegs = 40;
constexpr int kConsumerRegs = 232;
static_assert(kProducerRegs * 128 + kConsumerRegs * 256 <= 65536, "setmaxnreg budgets");

#include "paged_prefill_sm90_kernel.cuh"

template <typename T, int HEAD_DIM>
int32_t launch(void* out, const void* q, const void* k_cache, const void* v_cache, const int32_t* block_tables,
               const int32_t* cu_query_lens, const int32_t* context_lens, int num_seqs, int num_q_heads,
               int num_kv_heads, int block_shift, bool hnd, int max_blocks_per_seq, int max_query_len, float scale,
               cudaStream_t stream) {
    constexpr size_t smem = Smem<HEAD_DIM>::kAlloc;
    auto kernel = paged_prefill_sm90_kernel<T, HEAD_DIM>;
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (err != cudaSuccess) {
        return fail(FOLIO_CUDA_STATUS_CUDA_ERROR, "paged_prefill (sm_90a): cannot reserve %zu bytes of shared memory: %s",
                    smem, cudaGetErrorString(err));
    }
    const int group = num_q_heads / num_kv_heads;
    const int64_t row_tiles = ((int64_t)max_query_len * group + kRows - 1) / kRows;
    if (row_tiles > INT32_MAX) {
        return fail(FOLIO_CUDA_STATUS_INVALID_ARGUMENT, "paged_prefill: max_query_len %d x group %d is too large",
                    max_query_len, group);
    }
    const int64_t num_items = row_tiles * num_kv_heads * num_seqs;
    int sms = 0;
    const int32_t status = sm_count(&sms);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    const unsigned grid = (unsigned)(num_items < sms ? num_items : sms);  // one CTA per SM (225 KB each)
    kernel<<<grid, kThreads, smem, stream>>>(static_cast<T*>(out), static_cast<const T*>(q),
                                             static_cast<const T*>(k_cache), static_cast<const T*>(v_cache),
                                             block_tables, cu_query_lens, context_lens, num_q_heads, num_kv_heads,
                                             block_shift, hnd, max_blocks_per_seq, scale * 1.4426950408889634f,
                                             (int)row_tiles, num_items);
    return check_launch("paged_prefill (sm_90a)");
}

}  // namespace

bool prefill_sm90_by_default() { return FOLIO_PREFILL_SM90_DEFAULT != 0; }

int32_t prefill_sm90(void* out, const void* q, const void* k_cache, const void* v_cache,
                     const int32_t* block_tables, const int32_t* cu_query_lens, const int32_t* context_lens,
                     int num_seqs, int num_q_heads, int num_kv_heads, int head_dim, int block_shift, bool hnd,
                     int max_blocks_per_seq, int max_query_len, float scale, int dtype, cudaStream_t stream) {
    auto run = [&](auto launcher) {
        return launcher(out, q, k_cache, v_cache, block_tables, cu_query_lens, context_lens, num_seqs, num_q_heads,
                        num_kv_heads, block_shift, hnd, max_blocks_per_seq, max_query_len, scale, stream);
    };
    const bool d128 = head_dim == 128;
    if (dtype == FOLIO_CUDA_DTYPE_BF16) {
        return d128 ? run(launch<__nv_bfloat16, 128>) : run(launch<__nv_bfloat16, 64>);
    }
    return d128 ? run(launch<__half, 128>) : run(launch<__half, 64>);
}

}  // namespace folio
