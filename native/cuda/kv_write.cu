// kv_write.cu: see kv_write.cuh.
#include "kv_write.cuh"

#include <cuda_runtime.h>
#include <stdint.h>

#include "status.cuh"

namespace folio {
namespace {

constexpr int kKvWriteThreads = 128;

// One CTA per token: K row then V row, each row_vecs vectors of type V.
template <typename V>
__global__ void __launch_bounds__(kKvWriteThreads)
    kv_write_kernel(V* __restrict__ k_cache, V* __restrict__ v_cache, const V* __restrict__ key,
                    const V* __restrict__ value, const int64_t* __restrict__ slot_mapping, int64_t row_vecs,
                    int64_t key_stride_vecs, int64_t value_stride_vecs, int64_t num_slots) {
    const int64_t token = blockIdx.x;
    const int64_t slot = slot_mapping[token];
    if (slot < 0 || slot >= num_slots) return;  // padding (or an impossible slot: never write out of bounds)
    const V* k_src = key + token * key_stride_vecs;
    const V* v_src = value + token * value_stride_vecs;
    V* k_dst = k_cache + slot * row_vecs;
    V* v_dst = v_cache + slot * row_vecs;
    for (int64_t i = threadIdx.x; i < row_vecs; i += kKvWriteThreads) {
        const V k = k_src[i];
        const V v = v_src[i];
        k_dst[i] = k;
        v_dst[i] = v;
    }
}

template <typename V>
int32_t launch_kv_write(void* k_cache, void* v_cache, const void* key, const void* value,
                        const int64_t* slot_mapping, int num_tokens, int64_t row_bytes, int64_t key_stride_bytes,
                        int64_t value_stride_bytes, int64_t num_slots, cudaStream_t stream) {
    kv_write_kernel<V><<<num_tokens, kKvWriteThreads, 0, stream>>>(
        static_cast<V*>(k_cache), static_cast<V*>(v_cache), static_cast<const V*>(key),
        static_cast<const V*>(value), slot_mapping, row_bytes / (int64_t)sizeof(V),
        key_stride_bytes / (int64_t)sizeof(V), value_stride_bytes / (int64_t)sizeof(V), num_slots);
    return check_launch("kv_write");
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_kv_write(void* k_cache, void* v_cache, const void* key, const void* value,
                                  const int64_t* slot_mapping, int32_t num_tokens, int32_t num_kv_heads,
                                  int32_t head_dim, int64_t key_token_stride, int64_t value_token_stride,
                                  int64_t num_slots, int32_t element_size, void* stream) {
    FOLIO_REQUIRE(num_tokens >= 0, "kv_write: num_tokens must be >= 0 (got %d)", num_tokens);
    FOLIO_REQUIRE(num_kv_heads > 0 && head_dim > 0, "kv_write: num_kv_heads (%d) and head_dim (%d) must be > 0",
                  num_kv_heads, head_dim);
    FOLIO_REQUIRE(element_size == 1 || element_size == 2 || element_size == 4 || element_size == 8,
                  "kv_write: element_size must be 1, 2, 4 or 8 bytes (got %d)", element_size);
    const int64_t row_elems = (int64_t)num_kv_heads * head_dim;
    FOLIO_REQUIRE(key_token_stride >= row_elems && value_token_stride >= row_elems,
                  "kv_write: key_token_stride (%lld) and value_token_stride (%lld) must be >= num_kv_heads * "
                  "head_dim (%lld)",
                  (long long)key_token_stride, (long long)value_token_stride, (long long)row_elems);
    FOLIO_REQUIRE(num_slots >= 0, "kv_write: num_slots must be >= 0 (got %lld)", (long long)num_slots);
    if (num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(k_cache && v_cache && key && value && slot_mapping,
                  "kv_write: k_cache, v_cache, key, value and slot_mapping must be non-null");
    const int64_t row_bytes = row_elems * element_size;
    const int64_t ks = key_token_stride * element_size;
    const int64_t vs = value_token_stride * element_size;
    // The widest access every address and stride is aligned to.
    const uint64_t bits = (uint64_t)(uintptr_t)k_cache | (uint64_t)(uintptr_t)v_cache | (uint64_t)(uintptr_t)key |
                          (uint64_t)(uintptr_t)value | (uint64_t)row_bytes | (uint64_t)ks | (uint64_t)vs;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    if (bits % 16 == 0)
        return folio::launch_kv_write<uint4>(k_cache, v_cache, key, value, slot_mapping, num_tokens, row_bytes, ks, vs,
                                             num_slots, s);
    if (bits % 8 == 0)
        return folio::launch_kv_write<uint2>(k_cache, v_cache, key, value, slot_mapping, num_tokens, row_bytes, ks, vs,
                                             num_slots, s);
    if (bits % 4 == 0)
        return folio::launch_kv_write<uint32_t>(k_cache, v_cache, key, value, slot_mapping, num_tokens, row_bytes, ks,
                                                vs, num_slots, s);
    if (bits % 2 == 0)
        return folio::launch_kv_write<uint16_t>(k_cache, v_cache, key, value, slot_mapping, num_tokens, row_bytes, ks,
                                                vs, num_slots, s);
    return folio::launch_kv_write<uint8_t>(k_cache, v_cache, key, value, slot_mapping, num_tokens, row_bytes, ks, vs,
                                           num_slots, s);
}
