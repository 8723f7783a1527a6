// paged_attention_decode.cu: see paged_attention_decode.cuh for the layouts and the work split.
#include "paged_attention_decode.cuh"

#include <cuda_runtime.h>

#include "attention_common.cuh"
#include "decode_config.cuh"
#include "dtype.cuh"
#include "paged_kv.cuh"
#include "status.cuh"

namespace folio {
namespace {

using namespace decode;

#include "paged_attention_decode_kernel.cuh"

template <typename T, int HEAD_DIM, int STAGES>
int32_t launch_stages(void* out, const void* q, const void* k_cache, const void* v_cache,
                      const int32_t* block_tables, const int32_t* context_lens, int num_seqs, int num_q_heads,
                      int num_kv_heads, int block_shift, bool hnd, int max_blocks_per_seq, const DecodePlan& plan,
                      float scale, void* workspace, cudaStream_t stream) {
    constexpr size_t smem = decode_smem_bytes<T, HEAD_DIM, STAGES>();
    auto kernel = paged_attention_decode_kernel<T, HEAD_DIM, STAGES>;
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (err != cudaSuccess) {
        return fail(FOLIO_CUDA_STATUS_CUDA_ERROR, "paged_attention_decode: cannot reserve %zu bytes of shared memory: %s",
                    smem, cudaGetErrorString(err));
    }
    float* partial_out = static_cast<float*>(workspace);
    const int64_t rows = (int64_t)num_seqs * num_q_heads;
    float* partial_lse = plan.num_splits > 1 ? partial_out + rows * plan.num_splits * HEAD_DIM : nullptr;
    int32_t* counters =
        plan.num_splits > 1 ? reinterpret_cast<int32_t*>(partial_lse + rows * plan.num_splits) : nullptr;
    const float scale_log2 = scale * 1.4426950408889634f;
    dim3 grid(num_kv_heads, plan.num_splits, num_seqs);
    kernel<<<grid, kDecodeThreads, smem, stream>>>(
        static_cast<T*>(out), static_cast<const T*>(q), static_cast<const T*>(k_cache),
        static_cast<const T*>(v_cache), block_tables, context_lens, num_q_heads, num_kv_heads, block_shift, hnd,
        max_blocks_per_seq, plan.chunk_tokens, scale_log2, partial_out, partial_lse, counters);
    return check_launch("paged_attention_decode");
}

template <typename T, int HEAD_DIM>
int32_t launch_decode(void* out, const void* q, const void* k_cache, const void* v_cache,
                      const int32_t* block_tables, const int32_t* context_lens, int num_seqs, int num_q_heads,
                      int num_kv_heads, int block_shift, bool hnd, int max_blocks_per_seq, const DecodePlan& plan,
                      float scale, void* workspace, cudaStream_t stream) {
    return plan.stages == kStagesMany
               ? launch_stages<T, HEAD_DIM, kStagesMany>(out, q, k_cache, v_cache, block_tables, context_lens,
                                                         num_seqs, num_q_heads, num_kv_heads, block_shift, hnd,
                                                         max_blocks_per_seq, plan, scale, workspace, stream)
               : launch_stages<T, HEAD_DIM, kStagesFew>(out, q, k_cache, v_cache, block_tables, context_lens,
                                                        num_seqs, num_q_heads, num_kv_heads, block_shift, hnd,
                                                        max_blocks_per_seq, plan, scale, workspace, stream);
}

}  // namespace
}  // namespace folio

namespace {

int32_t validate_decode_sizes(int32_t num_seqs, int32_t num_q_heads, int32_t num_kv_heads, int32_t head_dim,
                              int32_t max_context_len) {
    FOLIO_REQUIRE(num_seqs >= 0, "paged_attention_decode: num_seqs must be >= 0 (got %d)", num_seqs);
    FOLIO_REQUIRE(num_kv_heads > 0, "paged_attention_decode: num_kv_heads must be > 0 (got %d)", num_kv_heads);
    FOLIO_REQUIRE(num_q_heads > 0 && num_q_heads % num_kv_heads == 0,
                  "paged_attention_decode: num_q_heads (%d) must be a positive multiple of num_kv_heads (%d)",
                  num_q_heads, num_kv_heads);
    FOLIO_REQUIRE(max_context_len >= 0 && max_context_len <= (1 << 30),
                  "paged_attention_decode: max_context_len must be in [0, 2^30] (got %d)", max_context_len);
    if (num_q_heads / num_kv_heads > folio::kMaxGroup) {
        return folio::fail(FOLIO_CUDA_STATUS_UNSUPPORTED,
                           "paged_attention_decode: %d query heads per KV head; at most %d are supported",
                           num_q_heads / num_kv_heads, folio::kMaxGroup);
    }
    if (head_dim != 64 && head_dim != 128) {
        return folio::fail(FOLIO_CUDA_STATUS_UNSUPPORTED,
                           "paged_attention_decode: head_dim %d is not supported (64 or 128)", head_dim);
    }
    return FOLIO_CUDA_STATUS_OK;
}

}  // namespace

extern "C" int32_t folio_paged_attention_decode_workspace_size(int32_t num_seqs, int32_t num_q_heads,
                                                               int32_t num_kv_heads, int32_t head_dim,
                                                               int32_t max_context_len, size_t* workspace_bytes) {
    FOLIO_REQUIRE(workspace_bytes != nullptr, "paged_attention_decode_workspace_size: workspace_bytes is null");
    int32_t status = validate_decode_sizes(num_seqs, num_q_heads, num_kv_heads, head_dim, max_context_len);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    int sms = 0;
    status = folio::sm_count(&sms);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    *workspace_bytes = folio::plan_decode(num_seqs, num_q_heads, num_kv_heads, head_dim, max_context_len, sms)
                           .workspace_bytes;
    return folio::ok();
}

extern "C" int32_t folio_paged_attention_decode(const folio_cuda_paged_kv* cache,
                                                const folio_cuda_paged_attention_decode_params* p, void* stream) {
    int32_t status = folio::check_struct_size(p, sizeof(folio_cuda_paged_attention_decode_params),
                                              "paged_attention_decode");
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    folio::PagedKvShape shape;
    status = folio::check_paged_kv(cache, "paged_attention_decode", &shape);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    status = validate_decode_sizes(p->num_seqs, p->num_q_heads, cache->num_kv_heads, cache->head_dim,
                                   p->max_context_len);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    if (cache->dtype != FOLIO_CUDA_DTYPE_F16 && cache->dtype != FOLIO_CUDA_DTYPE_BF16) {
        return folio::fail(FOLIO_CUDA_STATUS_UNSUPPORTED,
                           "paged_attention_decode: dtype %d is not supported (fp16 = 0 or bf16 = 1)", cache->dtype);
    }
    if (p->num_seqs == 0) return folio::ok();
    FOLIO_REQUIRE(p->out && p->q && cache->k_cache && cache->v_cache && p->block_tables && p->context_lens,
                  "paged_attention_decode: out, q, k_cache, v_cache, block_tables and context_lens must be non-null");
    const int block_size = cache->block_size;
    FOLIO_REQUIRE(p->max_blocks_per_seq >= (p->max_context_len + block_size - 1) / block_size,
                  "paged_attention_decode: max_blocks_per_seq (%d) cannot hold max_context_len %d at block_size %d",
                  p->max_blocks_per_seq, p->max_context_len, block_size);
    FOLIO_REQUIRE(((uintptr_t)p->q | (uintptr_t)p->out | (uintptr_t)cache->k_cache | (uintptr_t)cache->v_cache) % 16 ==
                      0,
                  "paged_attention_decode: q, out, k_cache and v_cache must be 16-byte aligned");
    int sms = 0;
    status = folio::sm_count(&sms);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    const folio::DecodePlan plan = folio::plan_decode(p->num_seqs, p->num_q_heads, cache->num_kv_heads,
                                                      cache->head_dim, p->max_context_len, sms);
    if (plan.workspace_bytes > 0) {
        if (p->workspace == nullptr || p->workspace_bytes < plan.workspace_bytes) {
            return folio::fail(FOLIO_CUDA_STATUS_WORKSPACE_TOO_SMALL,
                               "paged_attention_decode: workspace of %zu bytes given, %zu needed "
                               "(folio_paged_attention_decode_workspace_size)",
                               p->workspace ? p->workspace_bytes : (size_t)0, plan.workspace_bytes);
        }
        FOLIO_REQUIRE((uintptr_t)p->workspace % 16 == 0, "paged_attention_decode: workspace must be 16-byte aligned");
    }
    return folio::dispatch_attention(cache->dtype, cache->head_dim, [&](auto tag, auto dim) {
        return folio::launch_decode<typename decltype(tag)::type, decltype(dim)::value>(
            p->out, p->q, cache->k_cache, cache->v_cache, p->block_tables, p->context_lens, p->num_seqs,
            p->num_q_heads, cache->num_kv_heads, shape.block_shift, shape.hnd, p->max_blocks_per_seq, plan, p->scale,
            p->workspace, static_cast<cudaStream_t>(stream));
    });
}
