// paged_kv.cu: see paged_kv.cuh.
#include "paged_kv.cuh"

#include "dtype.cuh"
#include "status.cuh"

namespace folio {

int log2_exact(int x) {
    if (x <= 0) return -1;
    int shift = 0;
    while ((1 << shift) < x) ++shift;
    return (1 << shift) == x ? shift : -1;
}

int32_t check_paged_kv(const folio_cuda_paged_kv* cache, const char* what, PagedKvShape* shape) {
    FOLIO_REQUIRE(cache, "%s: cache must be non-null", what);
    const int block_shift = log2_exact(cache->block_size);
    FOLIO_REQUIRE(block_shift >= 0, "%s: block_size must be a power of two (got %d)", what, cache->block_size);
    FOLIO_REQUIRE(cache->layout == FOLIO_CUDA_KV_LAYOUT_NHD || cache->layout == FOLIO_CUDA_KV_LAYOUT_HND,
                  "%s: layout must be 0 (NHD) or 1 (HND) (got %d)", what, cache->layout);
    FOLIO_REQUIRE(is_float_dtype(cache->dtype), "%s: dtype must be F16 (0), BF16 (1) or F32 (2) (got %d)", what,
                  cache->dtype);
    FOLIO_REQUIRE(cache->num_kv_heads > 0 && cache->head_dim > 0 && cache->num_blocks >= 0,
                  "%s: num_kv_heads (%d) and head_dim (%d) must be > 0, num_blocks (%d) >= 0", what,
                  cache->num_kv_heads, cache->head_dim, cache->num_blocks);
    shape->block_shift = block_shift;
    shape->hnd = cache->layout == FOLIO_CUDA_KV_LAYOUT_HND;
    shape->element_size = dtype_size(cache->dtype);
    shape->block_bytes = ((int64_t)cache->block_size * cache->num_kv_heads * cache->head_dim) * shape->element_size;
    shape->num_slots = (int64_t)cache->num_blocks << block_shift;
    return FOLIO_CUDA_STATUS_OK;
}

}  // namespace folio
