/*
 * folio_cuda_attention.h — part of folio_cuda.h: the paged KV cache's kernels: paged attention (decode, prefill and
 * the general kernel for every dtype and head size), the KV write and block moves (copy-on-write, swaps).
 *
 * Include folio_cuda.h, not this file: folio_cuda.h holds the conventions every function here follows, the
 * version macros, FOLIO_CUDA_API, the status codes and the paged-cache view, and includes its parts in order
 * (folio_cuda_runtime.h, folio_cuda_attention.h, folio_cuda_model_ops.h). The parts together are the
 * specification; the drift tests read them through folio_cuda.h.
 */
#ifndef FOLIO_CUDA_ATTENTION_H
#define FOLIO_CUDA_ATTENTION_H

#ifndef FOLIO_CUDA_H
#error "include folio_cuda.h, not folio_cuda_attention.h"
#endif

/* ---------------------------------------------------------------------------------------------------
 * Paged attention, decode: one new query token per sequence attends to its whole cached context.
 *   cache:         the layer's paged KV cache; dtype F16 or BF16 (q and out are of the same dtype), head_dim 64
 *                  or 128, at most 16 query heads per KV head.
 *   out:           [num_seqs, num_q_heads, head_dim]; every element is written.
 *   q:             [num_seqs, num_q_heads, head_dim], contiguous.
 *   block_tables:  see the layout above; max_blocks_per_seq columns.
 *   context_lens:  int32 [num_seqs], tokens of context per sequence (the new token's K/V included, so it
 *                  has been written with folio_kv_write first), 0 <= len <= max_context_len. A sequence of
 *                  length 0 gets an output of zeros.
 *   max_context_len: an upper bound of context_lens (it sizes the split of long contexts), at most 2^30
 *                  (token positions stay far from int32 overflow in the kernel's tile arithmetic).
 *   scale:         softmax scale, usually 1/sqrt(head_dim).
 *   workspace:     device memory of at least folio_paged_attention_decode_workspace_size(...) bytes
 *                  (may be NULL when that size is 0). It holds the split-KV partial results and per-(sequence,
 *                  KV head) counters: zero-fill it once before its first use (cudaMemset); every launch
 *                  leaves it zero-filled again, so it can be reused by the next launch on the same stream
 *                  (not by launches running concurrently on other streams).
 * Long contexts with few sequences are split across CTAs (split-KV); the last CTA of each split group
 * merges the pieces in the same launch. The split depends only on the arguments and the current device's
 * multiprocessor count.
 * ------------------------------------------------------------------------------------------------- */
typedef struct folio_cuda_paged_attention_decode_params {
    uint32_t struct_size;
    int32_t num_seqs;
    int32_t num_q_heads;           /* a multiple of the cache's num_kv_heads */
    int32_t max_blocks_per_seq;    /* columns of block_tables, >= ceil(max_context_len / block_size) */
    int32_t max_context_len;
    float scale;
    void* out;
    const void* q;
    const int32_t* block_tables;   /* int32 [num_seqs, max_blocks_per_seq] */
    const int32_t* context_lens;   /* int32 [num_seqs] */
    void* workspace;
    size_t workspace_bytes;
} folio_cuda_paged_attention_decode_params;

FOLIO_CUDA_API int32_t folio_paged_attention_decode_workspace_size(
    int32_t num_seqs, int32_t num_q_heads, int32_t num_kv_heads, int32_t head_dim,
    int32_t max_context_len, size_t* workspace_bytes);

FOLIO_CUDA_API int32_t folio_paged_attention_decode(
    const folio_cuda_paged_kv* cache, const folio_cuda_paged_attention_decode_params* params, void* stream);

/* ---------------------------------------------------------------------------------------------------
 * Paged prefill (chunked prefill, prefix hits): the new query tokens of each sequence attend causally to
 * the sequence's cached context, their own K/V included (write them with folio_kv_write first).
 *   cache:          the layer's paged KV cache; dtype F16 or BF16 (q and out too), head_dim 64 or 128.
 *   q, out:         [num_tokens, num_q_heads, head_dim], contiguous; the tokens of sequence i are
 *                   rows cu_query_lens[i] .. cu_query_lens[i+1]-1. Every element of those rows is written.
 *   cu_query_lens:  int32 [num_seqs + 1], cu_query_lens[0] = 0, non-decreasing.
 *   context_lens:   int32 [num_seqs], the whole context of sequence i (cached prefix + new tokens),
 *                   context_lens[i] >= q_len(i). New token j of sequence i sits at position
 *                   context_lens[i] - q_len(i) + j and sees the keys at positions 0 .. that position.
 *   max_query_len:  an upper bound of every q_len(i) (it sizes the grid).
 *   kernel:         a folio_cuda_prefill_kernel. SM80: tensor cores through mma.sync, fp32 softmax, every GPU.
 *                   SM90: the wgmma kernel, only in a library built by nvcc >= 12 with sm_90 among its targets,
 *                   on a compute-capability 9.0 device, for a positive finite scale (asked for where it does not
 *                   apply: FOLIO_CUDA_STATUS_UNSUPPORTED, naming why). AUTO: SM90 where it applies and the
 *                   build's default (CMake FOLIO_PREFILL_SM90_DEFAULT, on unless set to 0) takes it, else SM80.
 * ------------------------------------------------------------------------------------------------- */
typedef struct folio_cuda_paged_prefill_params {
    uint32_t struct_size;
    int32_t num_seqs;
    int32_t num_q_heads;           /* a multiple of the cache's num_kv_heads */
    int32_t max_blocks_per_seq;    /* columns of block_tables, > 0 */
    int32_t max_query_len;
    float scale;
    int32_t kernel;                /* folio_cuda_prefill_kernel */
    int32_t reserved;              /* 0 (keeps the pointers below 8-byte aligned with no hidden padding) */
    void* out;
    const void* q;
    const int32_t* block_tables;   /* int32 [num_seqs, max_blocks_per_seq] */
    const int32_t* cu_query_lens;  /* int32 [num_seqs + 1] */
    const int32_t* context_lens;   /* int32 [num_seqs] */
} folio_cuda_paged_prefill_params;

FOLIO_CUDA_API int32_t folio_paged_prefill(
    const folio_cuda_paged_kv* cache, const folio_cuda_paged_prefill_params* params, void* stream);

/* Which kernel (FOLIO_CUDA_PREFILL_KERNEL_SM80 or _SM90) folio_paged_prefill runs on the current device when
 * asked for `kernel` with this head_dim, scale and dtype, or the negative status it would refuse the request with
 * (UNSUPPORTED: SM90 asked for where it does not apply; INVALID_ARGUMENT: not a folio_cuda_prefill_kernel), the
 * reason in folio_cuda_last_error(). For tests and benchmarks that must know which kernel they checked or timed. */
FOLIO_CUDA_API int32_t folio_paged_prefill_kernel(int32_t kernel, int32_t head_dim, float scale, int32_t dtype);

/* ---------------------------------------------------------------------------------------------------
 * KV write (reshape-and-cache): copies each new token's K and V rows into the cache slot the KV manager
 * assigned to it.
 *   cache:          the layer's paged KV cache (any dtype: bytes are moved).
 *   key, value:     [num_tokens, num_kv_heads, head_dim] of the cache's dtype; the heads of one token are
 *                   contiguous, tokens are key_token_stride / value_token_stride elements apart
 *                   (>= num_kv_heads * head_dim), so slices of a fused QKV projection can be passed without a copy.
 *   slot_mapping:   int64 [num_tokens], the slot of each token (block * block_size + offset). A negative
 *                   slot skips the token (padding); so does a slot >= num_blocks * block_size (a caller
 *                   bug, but never a write out of bounds). Slots must be distinct.
 * ------------------------------------------------------------------------------------------------- */
typedef struct folio_cuda_kv_write_params {
    uint32_t struct_size;
    int32_t num_tokens;
    const void* key;
    const void* value;
    int64_t key_token_stride;
    int64_t value_token_stride;
    const int64_t* slot_mapping;
} folio_cuda_kv_write_params;

FOLIO_CUDA_API int32_t folio_kv_write(
    const folio_cuda_paged_kv* cache, const folio_cuda_kv_write_params* params, void* stream);

/* ---------------------------------------------------------------------------------------------------
 * Block moves: copy-on-write copies inside the GPU pool, and swaps between the GPU pool and a host pool, for
 * every cache of the model (each layer's K and V) and every pair in one launch.
 *   cache:       the shape every cache in cache_ptrs (and host_ptrs) has: num_blocks (of the GPU pool),
 *                block_size, num_kv_heads, head_dim and dtype (a block is block_size * num_kv_heads *
 *                head_dim elements, a multiple of 16 bytes). Its k_cache and v_cache are not read: the caches
 *                moved are those of the pointer tables.
 *   cache_ptrs:  device array of num_caches addresses (uint64) of the GPU caches, 16-byte aligned.
 *   host_ptrs:   swaps: device array of num_caches addresses of the host caches (pinned host memory from
 *                cudaHostAlloc / torch pin_memory, addressed through unified virtual addressing; device memory
 *                also works), cache c of host_ptrs pairing with cache c of cache_ptrs, host_num_blocks blocks each.
 *                Copies: NULL, and host_num_blocks 0.
 *   pairs:       device int32 [num_pairs, 2] = (src_block, dst_block). A pair with an id outside its pool
 *                ([0, cache->num_blocks) on the GPU, [0, host_num_blocks) on the host) is skipped (a caller bug,
 *                never an out-of-bounds access). Destinations must be distinct; for copies they must not be
 *                sources in the same call.
 *   folio_block_copy:     block pairs[2p+1] of GPU cache c becomes a copy of block pairs[2p] of GPU cache c.
 *   folio_block_swap_out: block pairs[2p+1] of host cache c becomes a copy of block pairs[2p] of GPU cache c.
 *   folio_block_swap_in:  block pairs[2p+1] of GPU cache c becomes a copy of block pairs[2p] of host cache c.
 * A swap moves a whole step's mapping for every layer in one launch instead of one cudaMemcpy per block.
 * ------------------------------------------------------------------------------------------------- */
typedef struct folio_cuda_block_move_params {
    uint32_t struct_size;
    int32_t num_caches;            /* entries of cache_ptrs (and host_ptrs), <= 65535 */
    const uint64_t* cache_ptrs;
    const uint64_t* host_ptrs;
    const int32_t* pairs;
    int32_t num_pairs;
    int32_t host_num_blocks;
} folio_cuda_block_move_params;

FOLIO_CUDA_API int32_t folio_block_copy(
    const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params, void* stream);
FOLIO_CUDA_API int32_t folio_block_swap_out(
    const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params, void* stream);
FOLIO_CUDA_API int32_t folio_block_swap_in(
    const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params, void* stream);

/* ---------------------------------------------------------------------------------------------------
 * Paged attention for every dtype and head size, with a sliding window: the general kernel behind the fast
 * ones. Each query token attends causally to its sequence's cached keys (its own K/V written first), or, with
 * window_left W > 0, to the W most recent positions only (positions p - W + 1 .. p, Mistral's and Qwen2's
 * sliding window as transformers applies it). Decode and prefill rows may be mixed in one call.
 *   cache:          the layer's paged KV cache: F32, BF16 or F16, head_dim 1 .. 256, NHD or HND.
 *   q, out:         [num_tokens, num_q_heads, head_dim] of the cache's dtype; q's tokens q_token_stride
 *                   elements apart (a slice of a fused QKV projection), out contiguous; every element written.
 *   cu_query_lens:  int32 [num_seqs + 1] as folio_paged_prefill; context_lens: int32 [num_seqs], each >= its
 *                   query length; new token j of sequence i sits at position context_lens[i] - q_len(i) + j.
 * The scores, softmax and sums are fp32 (exact fp32 attention for an F32 cache); one CTA per (token, query head),
 * so it suits the fp32 mode and windowed layers, not the bandwidth-bound decode (folio_paged_attention_decode).
 * ------------------------------------------------------------------------------------------------- */
typedef struct folio_cuda_paged_attention_params {
    uint32_t struct_size;
    int32_t num_seqs;
    int32_t num_tokens;            /* cu_query_lens[num_seqs] */
    int32_t num_q_heads;           /* a multiple of the cache's num_kv_heads */
    int32_t max_blocks_per_seq;    /* columns of block_tables, > 0 */
    int32_t window_left;           /* 0: every earlier position; W > 0: the last W positions */
    float scale;
    int32_t reserved;              /* 0 */
    int64_t q_token_stride;        /* >= num_q_heads * head_dim */
    void* out;
    const void* q;
    const int32_t* block_tables;   /* int32 [num_seqs, max_blocks_per_seq] */
    const int32_t* cu_query_lens;
    const int32_t* context_lens;
} folio_cuda_paged_attention_params;

FOLIO_CUDA_API int32_t folio_paged_attention(
    const folio_cuda_paged_kv* cache, const folio_cuda_paged_attention_params* params, void* stream);

#endif /* FOLIO_CUDA_ATTENTION_H */
