// kv_write.cu: see kv_write.cuh.
#include "kv_write.cuh"

#include <cuda_runtime.h>
#include <stdint.h>

#include "paged_kv.cuh"
#include "status.cuh"

namespace folio {
namespace {

constexpr int kKvWriteThreads = 128;

// One CTA per token: K row then V row, each num_kv_heads * head_vecs vectors of type V. NHD: the token's
// heads are one contiguous cache row; HND: head h of slot (block, offset) lives at
// ((block * num_kv_heads + h) * block_size + offset) * head_dim.
template <typename V>
__global__ void __launch_bounds__(kKvWriteThreads)
    kv_write_kernel(V* __restrict__ k_cache, V* __restrict__ v_cache, const V* __restrict__ key,
                    const V* __restrict__ value, const int64_t* __restrict__ slot_mapping, int num_kv_heads,
                    int head_vecs, int block_shift, bool hnd, int64_t key_stride_vecs, int64_t value_stride_vecs,
                    int64_t num_slots) {
    const int64_t token = blockIdx.x;
    const int64_t slot = slot_mapping[token];
    if (slot < 0 || slot >= num_slots) return;  // padding (or an impossible slot: never write out of bounds)
    const V* k_src = key + token * key_stride_vecs;
    const V* v_src = value + token * value_stride_vecs;
    const int64_t block = slot >> block_shift;
    const int64_t offset = slot & ((1 << block_shift) - 1);
    const int row_vecs = num_kv_heads * head_vecs;
    for (int i = threadIdx.x; i < row_vecs; i += kKvWriteThreads) {
        const int head = i / head_vecs;
        const int within = i - head * head_vecs;
        const int64_t dst = hnd ? (((block * num_kv_heads + head) << block_shift) + offset) * head_vecs + within
                                : slot * row_vecs + i;
        const V k = k_src[i];
        const V v = v_src[i];
        k_cache[dst] = k;
        v_cache[dst] = v;
    }
}

template <typename V>
int32_t launch_kv_write(void* k_cache, void* v_cache, const void* key, const void* value,
                        const int64_t* slot_mapping, int num_tokens, int num_kv_heads, int64_t head_bytes,
                        int block_shift, bool hnd, int64_t key_stride_bytes, int64_t value_stride_bytes,
                        int64_t num_slots, cudaStream_t stream) {
    kv_write_kernel<V><<<num_tokens, kKvWriteThreads, 0, stream>>>(
        static_cast<V*>(k_cache), static_cast<V*>(v_cache), static_cast<const V*>(key),
        static_cast<const V*>(value), slot_mapping, num_kv_heads, (int)(head_bytes / (int64_t)sizeof(V)), block_shift,
        hnd, key_stride_bytes / (int64_t)sizeof(V), value_stride_bytes / (int64_t)sizeof(V), num_slots);
    return check_launch("kv_write");
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_kv_write(const folio_cuda_paged_kv* cache, const folio_cuda_kv_write_params* p,
                                  void* stream) {
    int32_t status = folio::check_struct_size(p, sizeof(folio_cuda_kv_write_params), "kv_write");
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    folio::PagedKvShape shape;
    status = folio::check_paged_kv(cache, "kv_write", &shape);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    FOLIO_REQUIRE(p->num_tokens >= 0, "kv_write: num_tokens must be >= 0 (got %d)", p->num_tokens);
    const int64_t row_elems = (int64_t)cache->num_kv_heads * cache->head_dim;
    FOLIO_REQUIRE(p->key_token_stride >= row_elems && p->value_token_stride >= row_elems,
                  "kv_write: key_token_stride (%lld) and value_token_stride (%lld) must be >= num_kv_heads * "
                  "head_dim (%lld)",
                  (long long)p->key_token_stride, (long long)p->value_token_stride, (long long)row_elems);
    if (p->num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(cache->k_cache && cache->v_cache && p->key && p->value && p->slot_mapping,
                  "kv_write: k_cache, v_cache, key, value and slot_mapping must be non-null");
    const int64_t head_bytes = (int64_t)cache->head_dim * shape.element_size;
    const int64_t ks = p->key_token_stride * shape.element_size;
    const int64_t vs = p->value_token_stride * shape.element_size;
    // The widest access every address, stride and head row is aligned to.
    const uint64_t bits = (uint64_t)(uintptr_t)cache->k_cache | (uint64_t)(uintptr_t)cache->v_cache |
                          (uint64_t)(uintptr_t)p->key | (uint64_t)(uintptr_t)p->value | (uint64_t)head_bytes |
                          (uint64_t)ks | (uint64_t)vs;
    FOLIO_REQUIRE(bits % 2 == 0, "kv_write: key, value, k_cache and v_cache must be aligned to their element size");
    cudaStream_t s = static_cast<cudaStream_t>(stream);
#define FOLIO_KV_WRITE(V)                                                                                          \
    folio::launch_kv_write<V>(cache->k_cache, cache->v_cache, p->key, p->value, p->slot_mapping, p->num_tokens,     \
                              cache->num_kv_heads, head_bytes, shape.block_shift, shape.hnd, ks, vs, shape.num_slots, s)
    if (bits % 16 == 0) return FOLIO_KV_WRITE(uint4);
    if (bits % 8 == 0) return FOLIO_KV_WRITE(uint2);
    if (bits % 4 == 0) return FOLIO_KV_WRITE(uint32_t);
    return FOLIO_KV_WRITE(uint16_t);
#undef FOLIO_KV_WRITE
}
