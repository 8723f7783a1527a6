// paged_kv.cuh: the host-side checks of the folio_cuda_paged_kv view, shared by every launcher that addresses
// the paged KV cache (attention, KV write, RoPE + KV write, block moves), so each refuses a bad view alike.
#pragma once

#include <stdint.h>

#include "folio_cuda.h"

namespace folio {

// What the launchers derive from a valid view.
struct PagedKvShape {
    int block_shift;      // log2(block_size)
    bool hnd;             // layout HND (else NHD)
    int element_size;     // bytes per element of the view's dtype
    int64_t block_bytes;  // one block of one cache: block_size * num_kv_heads * head_dim * element_size
    int64_t num_slots;    // num_blocks * block_size
};

// log2(x) when x is a power of two, else -1.
int log2_exact(int x);

// Checks the view for the launcher `what` (non-null; block_size a power of two; layout NHD or HND; dtype F16, BF16
// or F32; num_kv_heads and head_dim > 0; num_blocks >= 0) and fills `shape`. Returns OK or INVALID_ARGUMENT with a
// message naming the field. The k_cache / v_cache pointers are the launchers' to check (only calls with work
// need them).
int32_t check_paged_kv(const folio_cuda_paged_kv* cache, const char* what, PagedKvShape* shape);

}  // namespace folio
