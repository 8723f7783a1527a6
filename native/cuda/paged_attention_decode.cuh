// paged_attention_decode.cuh: decode attention over the paged KV cache (one query token per sequence).
//
// Layouts (see folio_cuda.h): q, out [num_seqs, num_q_heads, head_dim]; k_cache, v_cache in the NHD
// ([num_blocks, block_size, num_kv_heads, head_dim]) or HND ([num_blocks, num_kv_heads, block_size, head_dim])
// layout; block_tables [num_seqs, max_blocks_per_seq] int32; context_lens [num_seqs] int32.
//
// Work split: one CTA per (KV head, split, sequence) serves all the query heads of its KV head (at most 16,
// the rows of one mma tile), so every K/V byte is read once. Each of its 4 warps owns 16 tokens of every
// 64-token tile and runs its own cp.async pipeline over them (no CTA barrier per tile) into XOR-swizzled
// shared rows on a 128-byte-aligned buffer (each L2 sector fetched once: attention_common.cuh, StageLayout);
// the warps' softmax states are merged at the end. The pipeline has 3 stages (2 CTAs per SM at head_dim 128);
// launches of two waves or more may take another stage count (FOLIO_DECODE_STAGES_MANY, 3 by default: plan_decode).
// When num_seqs * num_kv_heads cannot fill the GPU, the context is
// split into chunks of whole tiles (about one wave of CTAs); each split writes its normalised partial output
// and log-sum-exp to the workspace, and the last split of each (sequence, KV head) to finish (counted with
// an atomic) merges them in the same launch and resets its counter.
//
// Workspace layout: partial_out fp32 [num_seqs, num_q_heads, num_splits, head_dim], then
// lse fp32 [num_seqs, num_q_heads, num_splits] (base-2 log-sum-exp of the scaled scores, -inf for no keys),
// then split counters int32 [num_seqs, num_kv_heads] (zero between launches).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace folio {

struct DecodePlan {
    int num_splits;    // CTAs per (sequence, KV head)
    int chunk_tokens;  // tokens per split, a multiple of the 64-token tile
    size_t workspace_bytes;
    int stages;        // K/V tiles per warp pipeline (FOLIO_DECODE_STAGES or FOLIO_DECODE_STAGES_MANY)
};

// The split the launcher will use for these sizes on a GPU of `num_sms` multiprocessors.
DecodePlan plan_decode(int num_seqs, int num_q_heads, int num_kv_heads, int head_dim, int max_context_len,
                       int num_sms);

}  // namespace folio
