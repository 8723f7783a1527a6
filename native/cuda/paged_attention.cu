// paged_attention.cu: folio_paged_attention, the general paged attention (folio_cuda.h): every dtype (fp32 too),
// head_dim up to 256, a sliding window, decode and prefill rows in one launch. One CTA per (query token, query
// head) walks the token's visible keys in chunks of one key per thread with an online softmax: simple and exact
// in fp32, for the fp32 mode of the parity tests and for windowed layers; the bandwidth-bound decode of the
// served models stays with folio_paged_attention_decode.
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "dtype.cuh"
#include "paged_kv.cuh"
#include "status.cuh"

namespace folio {
namespace {

constexpr int kThreads = 128;          // keys per chunk, and threads of the CTA
constexpr int kMaxHeadDim = 256;
constexpr int kDimsPerThread = kMaxHeadDim / kThreads;

__device__ float cta_max(float v, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    __syncthreads();
    if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
    __syncthreads();
    float r = scratch[0];
    for (int w = 1; w < kThreads / 32; ++w) r = fmaxf(r, scratch[w]);
    return r;
}

__device__ float cta_sum(float v, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();
    if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
    __syncthreads();
    float r = 0.f;
    for (int w = 0; w < kThreads / 32; ++w) r += scratch[w];  // fixed order: the same bits every run
    return r;
}

struct Geometry {
    int num_kv_heads, head_dim, block_shift, group, max_blocks, window_left;
    bool hnd;
    int64_t q_stride;
    float scale;
};

// Element offset of head `h` of the token at `slot` in a K or V cache.
__device__ __forceinline__ int64_t head_offset(int64_t slot, int h, const Geometry& g) {
    if (!g.hnd) return (slot * g.num_kv_heads + h) * (int64_t)g.head_dim;
    const int64_t block = slot >> g.block_shift, offset = slot & ((1 << g.block_shift) - 1);
    return (((block * g.num_kv_heads + h) << g.block_shift) + offset) * (int64_t)g.head_dim;
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    paged_attention_kernel(T* __restrict__ out, const T* __restrict__ q, const T* __restrict__ k_cache,
                           const T* __restrict__ v_cache, const int32_t* __restrict__ block_tables,
                           const int32_t* __restrict__ cu_query_lens, const int32_t* __restrict__ context_lens,
                           int num_seqs, Geometry g) {
    __shared__ float q_row[kMaxHeadDim];
    __shared__ float p_chunk[kThreads];
    __shared__ int64_t slots[kThreads];
    __shared__ float scratch[kThreads / 32];
    const int token = blockIdx.x, head = blockIdx.y, kv_head = head / g.group;
    // The sequence holding this token: the last s with cu_query_lens[s] <= token.
    int lo = 0, hi = num_seqs - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (cu_query_lens[mid] <= token) lo = mid; else hi = mid - 1;
    }
    const int seq = lo;
    const int q_len = cu_query_lens[seq + 1] - cu_query_lens[seq];
    const int position = context_lens[seq] - q_len + (token - cu_query_lens[seq]);
    const int first = g.window_left > 0 ? max(0, position - g.window_left + 1) : 0;
    const int32_t* table = block_tables + (int64_t)seq * g.max_blocks;

    for (int d = threadIdx.x; d < g.head_dim; d += kThreads)
        q_row[d] = to_float(q[token * g.q_stride + (int64_t)head * g.head_dim + d]);
    float acc[kDimsPerThread];
    for (int i = 0; i < kDimsPerThread; ++i) acc[i] = 0.f;
    float running_max = -INFINITY, running_sum = 0.f;
    __syncthreads();

    for (int start = first; start <= position; start += kThreads) {
        const int key = start + threadIdx.x;
        float score = -INFINITY;
        if (key <= position) {
            const int64_t slot = ((int64_t)table[key >> g.block_shift] << g.block_shift) + (key & ((1 << g.block_shift) - 1));
            slots[threadIdx.x] = slot;
            const T* k = k_cache + head_offset(slot, kv_head, g);
            float dot = 0.f;
            for (int d = 0; d < g.head_dim; ++d) dot = fmaf(q_row[d], to_float(k[d]), dot);
            score = dot * g.scale;
        }
        const float new_max = fmaxf(running_max, cta_max(score, scratch));
        const float p = key <= position ? expf(score - new_max) : 0.f;
        p_chunk[threadIdx.x] = p;
        const float rescale = expf(running_max - new_max);  // 0 on the first chunk (running_max = -inf)
        running_sum = running_sum * rescale + cta_sum(p, scratch);
        running_max = new_max;
        __syncthreads();  // p_chunk and slots complete
        const int keys = min(kThreads, position - start + 1);
        for (int i = 0; i < kDimsPerThread; ++i) {
            const int d = threadIdx.x + i * kThreads;
            if (d >= g.head_dim) break;
            float a = acc[i] * rescale;
            for (int j = 0; j < keys; ++j) a = fmaf(p_chunk[j], to_float(v_cache[head_offset(slots[j], kv_head, g) + d]), a);
            acc[i] = a;
        }
        __syncthreads();  // before the next chunk overwrites p_chunk and slots
    }
    T* dst = out + ((int64_t)token * (g.num_kv_heads * g.group) + head) * g.head_dim;
    for (int i = 0; i < kDimsPerThread; ++i) {
        const int d = threadIdx.x + i * kThreads;
        if (d < g.head_dim) dst[d] = from_float<T>(acc[i] / running_sum);
    }
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_paged_attention(const folio_cuda_paged_kv* cache, const folio_cuda_paged_attention_params* params,
                                         void* stream) {
    int32_t s = folio::check_struct_size(params, sizeof(folio_cuda_paged_attention_params), "paged_attention");
    if (s != FOLIO_CUDA_STATUS_OK) return s;
    folio::PagedKvShape shape;
    if ((s = folio::check_paged_kv(cache, "paged_attention", &shape)) != FOLIO_CUDA_STATUS_OK) return s;
    const folio_cuda_paged_attention_params& p = *params;
    FOLIO_REQUIRE(p.reserved == 0, "paged_attention: reserved must be 0");
    FOLIO_REQUIRE(p.num_seqs >= 0 && p.num_tokens >= 0, "paged_attention: num_seqs (%d) and num_tokens (%d) must be >= 0",
                  p.num_seqs, p.num_tokens);
    FOLIO_REQUIRE(cache->head_dim <= folio::kMaxHeadDim, "paged_attention: head_dim %d is over %d", cache->head_dim,
                  folio::kMaxHeadDim);
    FOLIO_REQUIRE(p.num_q_heads > 0 && p.num_q_heads % cache->num_kv_heads == 0,
                  "paged_attention: num_q_heads (%d) must be a positive multiple of num_kv_heads (%d)", p.num_q_heads,
                  cache->num_kv_heads);
    FOLIO_REQUIRE(p.num_q_heads <= 65535, "paged_attention: num_q_heads %d is over 65535", p.num_q_heads);
    FOLIO_REQUIRE(p.window_left >= 0, "paged_attention: window_left must be >= 0 (got %d)", p.window_left);
    FOLIO_REQUIRE(p.q_token_stride >= (int64_t)p.num_q_heads * cache->head_dim,
                  "paged_attention: q_token_stride (%lld) must be >= num_q_heads * head_dim (%lld)",
                  (long long)p.q_token_stride, (long long)p.num_q_heads * cache->head_dim);
    FOLIO_REQUIRE(p.scale > 0.f && isfinite(p.scale), "paged_attention: scale must be positive and finite");
    if (p.num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(p.num_seqs > 0, "paged_attention: %d tokens but no sequences", p.num_tokens);
    FOLIO_REQUIRE(p.max_blocks_per_seq > 0, "paged_attention: max_blocks_per_seq must be > 0");
    FOLIO_REQUIRE(p.out && p.q && p.block_tables && p.cu_query_lens && p.context_lens && cache->k_cache && cache->v_cache,
                  "paged_attention: out, q, block_tables, cu_query_lens, context_lens and the caches must be non-null");
    const folio::Geometry g{cache->num_kv_heads, cache->head_dim, shape.block_shift, p.num_q_heads / cache->num_kv_heads,
                            p.max_blocks_per_seq, p.window_left, shape.hnd, p.q_token_stride, p.scale};
    const dim3 grid((unsigned)p.num_tokens, (unsigned)p.num_q_heads);
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    folio::dispatch_float(cache->dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        folio::paged_attention_kernel<T><<<grid, folio::kThreads, 0, st>>>(
            static_cast<T*>(p.out), static_cast<const T*>(p.q), static_cast<const T*>(cache->k_cache),
            static_cast<const T*>(cache->v_cache), p.block_tables, p.cu_query_lens, p.context_lens, p.num_seqs, g);
    });
    return folio::check_launch("paged_attention");
}
