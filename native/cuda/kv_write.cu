// kv_write.cu: see kv_write.cuh.
#include "kv_write.cuh"

#include <cuda_runtime.h>
#include <stdint.h>

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

int log2_exact(int x) {
    int shift = 0;
    while ((1 << shift) < x) ++shift;
    return (1 << shift) == x ? shift : -1;
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_kv_write(void* k_cache, void* v_cache, const void* key, const void* value,
                                  const int64_t* slot_mapping, int32_t num_tokens, int32_t num_kv_heads,
                                  int32_t head_dim, int32_t block_size, int32_t kv_layout, int64_t key_token_stride,
                                  int64_t value_token_stride, int32_t num_blocks, int32_t element_size,
                                  void* stream) {
    FOLIO_REQUIRE(num_tokens >= 0, "kv_write: num_tokens must be >= 0 (got %d)", num_tokens);
    FOLIO_REQUIRE(num_kv_heads > 0 && head_dim > 0, "kv_write: num_kv_heads (%d) and head_dim (%d) must be > 0",
                  num_kv_heads, head_dim);
    const int block_shift = folio::log2_exact(block_size);
    FOLIO_REQUIRE(block_size > 0 && block_shift >= 0, "kv_write: block_size must be a power of two (got %d)",
                  block_size);
    FOLIO_REQUIRE(kv_layout == FOLIO_CUDA_KV_LAYOUT_NHD || kv_layout == FOLIO_CUDA_KV_LAYOUT_HND,
                  "kv_write: kv_layout must be 0 (NHD) or 1 (HND) (got %d)", kv_layout);
    FOLIO_REQUIRE(element_size == 1 || element_size == 2 || element_size == 4 || element_size == 8,
                  "kv_write: element_size must be 1, 2, 4 or 8 bytes (got %d)", element_size);
    const int64_t row_elems = (int64_t)num_kv_heads * head_dim;
    FOLIO_REQUIRE(key_token_stride >= row_elems && value_token_stride >= row_elems,
                  "kv_write: key_token_stride (%lld) and value_token_stride (%lld) must be >= num_kv_heads * "
                  "head_dim (%lld)",
                  (long long)key_token_stride, (long long)value_token_stride, (long long)row_elems);
    FOLIO_REQUIRE(num_blocks >= 0, "kv_write: num_blocks must be >= 0 (got %d)", num_blocks);
    if (num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(k_cache && v_cache && key && value && slot_mapping,
                  "kv_write: k_cache, v_cache, key, value and slot_mapping must be non-null");
    const int64_t head_bytes = (int64_t)head_dim * element_size;
    const int64_t ks = key_token_stride * element_size;
    const int64_t vs = value_token_stride * element_size;
    const int64_t num_slots = (int64_t)num_blocks << block_shift;
    // The widest access every address, stride and head row is aligned to.
    const uint64_t bits = (uint64_t)(uintptr_t)k_cache | (uint64_t)(uintptr_t)v_cache | (uint64_t)(uintptr_t)key |
                          (uint64_t)(uintptr_t)value | (uint64_t)head_bytes | (uint64_t)ks | (uint64_t)vs;
    const bool hnd = kv_layout == FOLIO_CUDA_KV_LAYOUT_HND;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
#define FOLIO_KV_WRITE(V)                                                                                      \
    folio::launch_kv_write<V>(k_cache, v_cache, key, value, slot_mapping, num_tokens, num_kv_heads, head_bytes, \
                              block_shift, hnd, ks, vs, num_slots, s)
    if (bits % 16 == 0) return FOLIO_KV_WRITE(uint4);
    if (bits % 8 == 0) return FOLIO_KV_WRITE(uint2);
    if (bits % 4 == 0) return FOLIO_KV_WRITE(uint32_t);
    if (bits % 2 == 0) return FOLIO_KV_WRITE(uint16_t);
    return FOLIO_KV_WRITE(uint8_t);
#undef FOLIO_KV_WRITE
}
