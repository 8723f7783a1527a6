// paged_prefill.cuh: causal attention of new query tokens over the paged KV cache (chunked prefill and
// prefix-cache hits), variable lengths in one launch, on tensor cores.
//
// Layouts (see folio_cuda.h): q, out [num_tokens, num_q_heads, head_dim], sequence i owning rows
// cu_query_lens[i] .. cu_query_lens[i+1]-1; k_cache, v_cache [num_blocks, block_size, num_kv_heads, head_dim];
// block_tables [num_seqs, max_blocks_per_seq]; context_lens [num_seqs] (cached prefix + new tokens).
//
// Work split: a CTA owns 64 query rows of one (sequence, KV head), a row being a (token, query head of the
// group) pair, so the K/V tiles it gathers serve every query head of the group; each of its 4 warps owns
// 16 rows and walks the K/V tiles up to the CTA's last causal position (flash-attention with online
// softmax). The grid runs the row tiles latest-first, so the longest CTAs start first.
#pragma once

#include <stdint.h>

namespace folio {

// The dispatch rule of folio_paged_prefill (prefill_kernel_choice.cu): *taken = the kernel (SM80 or SM90) a call
// asking for `requested` (a folio_cuda_prefill_kernel) runs on the current device; INVALID_ARGUMENT for an unknown
// request, UNSUPPORTED (naming why) for SM90 where it cannot run.
int32_t choose_prefill_kernel(int32_t requested, int32_t head_dim, float scale, int32_t dtype, int32_t* taken);

}  // namespace folio
