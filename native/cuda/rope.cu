// rope.cu: rotary frequencies (host) and RoPE fused with the paged KV write (folio_cuda.h, "Model ops").
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "dtype.cuh"
#include "paged_kv.cuh"
#include "status.cuh"

namespace folio {
namespace {

constexpr int kRopeThreads = 512;  // 16 warps: a token's 40-odd heads in 2-3 rounds (latency, not bandwidth, bounds it)
constexpr int kMaxHalf = 256;  // rotary_dim / 2 up to head_dim 512

__device__ __forceinline__ int64_t cache_offset(int64_t slot, int head, int block_shift, int num_kv_heads,
                                                int head_dim, bool hnd) {
    if (!hnd) return (slot * num_kv_heads + head) * head_dim;
    const int64_t block = slot >> block_shift, offset = slot & ((1 << block_shift) - 1);
    return (((block * num_kv_heads + head) << block_shift) + offset) * head_dim;
}

// Rotates one head (src -> dst, head_dim elements) by the token's angles (cos_sin: cos then sin of each of the
// half rotary pairs, computed once per token); dims past rotary_dim are copied.
template <typename T>
__device__ __forceinline__ void rotate_head(T* dst, const T* src, int lane, int lanes, int head_dim, int half,
                                            const float* cos_sin) {
    for (int i = lane; i < half; i += lanes) {
        const float c = cos_sin[i], s = cos_sin[kMaxHalf + i];
        const float x1 = to_float(src[i]), x2 = to_float(src[i + half]);
        // No fused multiply-add: the rounding of q*cos + rotate_half(q)*sin as PyTorch's fp32 ops round it.
        dst[i] = from_float<T>(__fadd_rn(__fmul_rn(x1, c), -__fmul_rn(x2, s)));
        dst[i + half] = from_float<T>(__fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s)));
    }
    for (int i = 2 * half + lane; i < head_dim; i += lanes) dst[i] = src[i];
}

// One CTA per token; each warp takes heads in turn: the query heads (to q_out), then the key heads (rotated into
// the cache) and the value heads (copied into the cache).
template <typename T>
__global__ void __launch_bounds__(kRopeThreads)
    rope_kv_write_kernel(T* __restrict__ q_out, const T* __restrict__ q, const T* __restrict__ k,
                         const T* __restrict__ v, T* __restrict__ k_cache, T* __restrict__ v_cache,
                         int64_t q_stride, int64_t k_stride, int64_t v_stride, const int32_t* __restrict__ positions,
                         const int64_t* __restrict__ slots, const float* __restrict__ inv_freq, int num_q_heads,
                         int num_kv_heads, int head_dim, int half, int block_shift, bool hnd, int64_t num_slots) {
    const int64_t t = blockIdx.x;
    const int32_t position = positions[t];
    const int64_t slot = slots[t];
    const bool write = slot >= 0 && slot < num_slots;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = kRopeThreads / 32;
    // The angles are the same for every head of the token: one sincosf per pair, not one per pair and head.
    __shared__ float cos_sin[2 * kMaxHalf];
    for (int i = threadIdx.x; i < half; i += kRopeThreads) sincosf((float)position * inv_freq[i], &cos_sin[kMaxHalf + i], &cos_sin[i]);
    __syncthreads();
    for (int h = warp; h < num_q_heads; h += warps) {
        rotate_head(q_out + (t * num_q_heads + h) * head_dim, q + t * q_stride + (int64_t)h * head_dim, lane, 32,
                    head_dim, half, cos_sin);
    }
    if (!write) return;
    for (int h = warp; h < num_kv_heads; h += warps) {
        const int64_t dst = cache_offset(slot, h, block_shift, num_kv_heads, head_dim, hnd);
        rotate_head(k_cache + dst, k + t * k_stride + (int64_t)h * head_dim, lane, 32, head_dim, half, cos_sin);
        const T* v_src = v + t * v_stride + (int64_t)h * head_dim;
        for (int i = lane; i < head_dim; i += 32) v_cache[dst + i] = v_src[i];
    }
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_rope_inv_freq(const folio_cuda_rope_config* config, float* inv_freq, int32_t count) {
    int32_t status = folio::check_struct_size(config, sizeof(folio_cuda_rope_config), "rope_inv_freq");
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    const int dim = config->rotary_dim;
    FOLIO_REQUIRE(dim > 0 && dim % 2 == 0, "rope_inv_freq: rotary_dim must be even and > 0 (got %d)", dim);
    FOLIO_REQUIRE(count == dim / 2, "rope_inv_freq: count must be rotary_dim / 2 = %d (got %d)", dim / 2, count);
    FOLIO_REQUIRE(inv_freq, "rope_inv_freq: inv_freq must be non-null");
    FOLIO_REQUIRE(config->theta > 1.f && isfinite(config->theta), "rope_inv_freq: theta must be > 1 (got %g)",
                  (double)config->theta);
    const int scaling = config->scaling;
    FOLIO_REQUIRE(scaling == FOLIO_CUDA_ROPE_SCALING_NONE || scaling == FOLIO_CUDA_ROPE_SCALING_LLAMA3,
                  "rope_inv_freq: scaling must be NONE (0) or LLAMA3 (1) (got %d)", scaling);
    if (scaling == FOLIO_CUDA_ROPE_SCALING_LLAMA3) {
        FOLIO_REQUIRE(config->factor >= 1.f, "rope_inv_freq: factor must be >= 1 (got %g)", (double)config->factor);
        FOLIO_REQUIRE(config->low_freq_factor > 0.f && config->high_freq_factor > config->low_freq_factor,
                      "rope_inv_freq: need 0 < low_freq_factor (%g) < high_freq_factor (%g)",
                      (double)config->low_freq_factor, (double)config->high_freq_factor);
        FOLIO_REQUIRE(config->original_max_position > 0, "rope_inv_freq: original_max_position must be > 0 (got %d)",
                      config->original_max_position);
    }
    // transformers: inv_freq = 1 / base ** (arange(0, dim, 2).float() / dim), all in fp32.
    for (int i = 0; i < count; ++i) {
        const float exponent = (float)(2 * i) / (float)dim;
        inv_freq[i] = 1.f / powf(config->theta, exponent);
    }
    if (scaling == FOLIO_CUDA_ROPE_SCALING_LLAMA3) {
        // transformers' _compute_llama3_parameters, element by element, in fp32.
        const float factor = config->factor, low = config->low_freq_factor, high = config->high_freq_factor;
        const float old_len = (float)config->original_max_position;
        const float low_wavelen = old_len / low, high_wavelen = old_len / high;
        for (int i = 0; i < count; ++i) {
            const float f = inv_freq[i];
            const float wavelen = (float)(2.0 * M_PI) / f;
            float scaled = wavelen > low_wavelen ? f / factor : f;
            if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
                const float smooth = (old_len / wavelen - low) / (high - low);
                scaled = (1.f - smooth) * scaled / factor + smooth * scaled;
            }
            inv_freq[i] = scaled;
        }
    }
    return folio::ok();
}

extern "C" int32_t folio_rope_kv_write(const folio_cuda_paged_kv* cache, const folio_cuda_rope_kv_write_params* p,
                                       void* stream) {
    int32_t status = folio::check_struct_size(p, sizeof(folio_cuda_rope_kv_write_params), "rope_kv_write");
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    folio::PagedKvShape shape;
    status = folio::check_paged_kv(cache, "rope_kv_write", &shape);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    FOLIO_REQUIRE(p->num_tokens >= 0, "rope_kv_write: num_tokens must be >= 0 (got %d)", p->num_tokens);
    FOLIO_REQUIRE(p->num_q_heads > 0 && p->num_q_heads % cache->num_kv_heads == 0,
                  "rope_kv_write: num_q_heads (%d) must be a positive multiple of num_kv_heads (%d)", p->num_q_heads,
                  cache->num_kv_heads);
    FOLIO_REQUIRE(p->rotary_dim > 0 && p->rotary_dim % 2 == 0 && p->rotary_dim <= cache->head_dim,
                  "rope_kv_write: rotary_dim must be even and in (0, head_dim=%d] (got %d)", cache->head_dim,
                  p->rotary_dim);
    FOLIO_REQUIRE(p->rotary_dim <= 2 * folio::kMaxHalf, "rope_kv_write: rotary_dim must be <= %d (got %d)",
                  2 * folio::kMaxHalf, p->rotary_dim);
    const int64_t q_row = (int64_t)p->num_q_heads * cache->head_dim;
    const int64_t kv_row = (int64_t)cache->num_kv_heads * cache->head_dim;
    FOLIO_REQUIRE(p->q_token_stride >= q_row && p->k_token_stride >= kv_row && p->v_token_stride >= kv_row,
                  "rope_kv_write: q_token_stride (%lld) must be >= %lld, k_ and v_token_stride (%lld, %lld) >= %lld",
                  (long long)p->q_token_stride, (long long)q_row, (long long)p->k_token_stride,
                  (long long)p->v_token_stride, (long long)kv_row);
    if (p->num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(p->q_out && p->q && p->k && p->v && p->positions && p->slot_mapping && p->inv_freq &&
                      cache->k_cache && cache->v_cache,
                  "rope_kv_write: q_out, q, k, v, positions, slot_mapping, inv_freq and the cache pointers must be "
                  "non-null");
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    folio::dispatch_float(cache->dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        folio::rope_kv_write_kernel<T><<<p->num_tokens, folio::kRopeThreads, 0, s>>>(
            static_cast<T*>(p->q_out), static_cast<const T*>(p->q), static_cast<const T*>(p->k),
            static_cast<const T*>(p->v), static_cast<T*>(cache->k_cache), static_cast<T*>(cache->v_cache),
            p->q_token_stride, p->k_token_stride, p->v_token_stride, p->positions, p->slot_mapping, p->inv_freq,
            p->num_q_heads, cache->num_kv_heads, cache->head_dim, p->rotary_dim / 2, shape.block_shift, shape.hnd,
            shape.num_slots);
    });
    return folio::check_launch("rope_kv_write");
}
