/* folio_cuda.h: the C ABI of libfolio_cuda.so, Folio's CUDA kernels.
 *
 * Conventions (every function):
 *   - Arguments are device pointers, sizes and a CUDA stream (`stream` is a cudaStream_t passed as void*; NULL
 *     is the legacy default stream). Work is enqueued on the stream; nothing synchronises. Launchers that address
 *     the paged KV cache take it as a folio_cuda_paged_kv view (below) and their other arguments as a parameter
 *     struct.
 *   - Every fallible call returns an int32_t status (a folio_cuda_status): FOLIO_CUDA_STATUS_OK (0) or a
 *     negative FOLIO_CUDA_STATUS_* below, the same convention as folio.h (where both headers name the same
 *     failure, the value is the same). On an error folio_cuda_last_error() returns a message naming the
 *     argument or CUDA error; the message is thread-local and stays valid until the next call from the same
 *     thread. Nothing throws, exits or prints. Out-parameters are written only on FOLIO_CUDA_STATUS_OK.
 *   - Launchers with many arguments take a parameter struct that starts with uint32_t struct_size, which the
 *     caller sets to sizeof(the struct) of the header it was compiled with. Fields are only ever appended
 *     (each growth is a minor version); a struct_size below this version's size is refused, a larger one is
 *     accepted when every byte past the fields this library knows is zero (FOLIO_CUDA_STATUS_STRUCT_SIZE
 *     otherwise). Pointers inside a struct are device pointers unless the field says otherwise.
 *
 * Versioning: FOLIO_CUDA_VERSION_MAJOR.MINOR.PATCH; folio_cuda_version() returns MAJOR*10000 + MINOR*100 +
 * PATCH of the loaded library, and a host checks folio_cuda_version() / 10000 == FOLIO_CUDA_VERSION_MAJOR.
 * A minor version only appends functions, struct fields and constants. 1.0.0 changed every error status
 * from positive to negative (0.1.0 returned 1..4) and renamed FOLIO_CUDA_OK / FOLIO_CUDA_ERROR_* to
 * FOLIO_CUDA_STATUS_*. 2.0.0 gave the attention, KV write and block move launchers the paged-cache view and
 * parameter structs (they took 7 to 19 plain arguments), made the prefill kernel a field of the call
 * (FOLIO_CUDA_PREFILL_KERNEL_AUTO / SM80 / SM90) instead of the environment's FOLIO_PREFILL_KERNEL, and split
 * folio_block_swap into folio_block_swap_out and folio_block_swap_in, and added events and graphs
 * (folio_cuda_event_*, stream capture, folio_cuda_graph_*). The kernels are unchanged. 2.1.0 added the GEMM
 * (folio_gemm through cuBLASLt, with folio_cuda_blas_create / _destroy) and the general paged attention with a
 * sliding window (folio_paged_attention, every dtype and head size). 2.2.0 turned folio_cuda_gemm_params'
 * reserved field into flags, with FOLIO_CUDA_GEMM_BATCH_INVARIANT (0 keeps 2.1's behaviour).
 *   - Arguments are validated on the host (shapes, sizes, alignment, null pointers). Device-side contents
 *     (block ids, lengths, slots) are trusted: they are the KV cache manager's output, documented below.
 *   - Element types: the fast attention kernels (decode, prefill) take fp16 or bf16; folio_paged_attention takes
 *     fp32 too; all compute softmax and accumulate in fp32.
 *     KV write, block copy and block swap move bytes of any of the cache dtypes (fp16, bf16, fp32).
 *
 * The paged KV cache (one tensor for K and one for V, per layer), contiguous, row-major, in one of two
 * layouts (kv_layout, a folio_cuda_kv_layout):
 *   NHD: [num_blocks, block_size, num_kv_heads, head_dim]  (a token's heads adjacent, as vLLM's flash layout)
 *   HND: [num_blocks, num_kv_heads, block_size, head_dim]  (a block's tokens of one head adjacent)
 *   The token at position p of a sequence has slot = block_table[p / block_size] * block_size +
 *   p % block_size (the KV manager's slot mapping, the same in both layouts); with block = slot / block_size
 *   and offset = slot % block_size, head h of its K starts at element
 *     NHD: (slot * num_kv_heads + h) * head_dim
 *     HND: ((block * num_kv_heads + h) * block_size + offset) * head_dim
 *   block_size must be a power of two (8, 16 and 32 are tested).
 *   block_tables: int32 [num_seqs, max_blocks_per_seq], row-major; entries past a sequence's last block
 *   are never read.
 *   Query head j uses KV head j / (num_q_heads / num_kv_heads) (grouped-query attention; MHA when equal).
 */
#ifndef FOLIO_CUDA_H
#define FOLIO_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_CUDA_VERSION_MAJOR 2
#define FOLIO_CUDA_VERSION_MINOR 2
#define FOLIO_CUDA_VERSION_PATCH 0

/* The most top logprobs folio_sample returns per row. */
#define FOLIO_CUDA_MAX_LOGPROBS 20

#if defined(_WIN32)
#define FOLIO_CUDA_API __declspec(dllexport)
#else
#define FOLIO_CUDA_API __attribute__((visibility("default")))
#endif

typedef enum folio_cuda_status {
    FOLIO_CUDA_STATUS_OK = 0,
    FOLIO_CUDA_STATUS_INVALID_ARGUMENT = -1,     /* a null pointer, a bad size, a misaligned pointer */
    FOLIO_CUDA_STATUS_STRUCT_SIZE = -3,          /* a parameter struct's struct_size (see Conventions) */
    FOLIO_CUDA_STATUS_WORKSPACE_TOO_SMALL = -6,  /* a workspace below the size its _workspace_size call gave */
    FOLIO_CUDA_STATUS_UNSUPPORTED = -11,         /* a valid request this build has no kernel for (head_dim 96) */
    FOLIO_CUDA_STATUS_CUDA_ERROR = -20           /* the CUDA runtime refused (launch failure, no device, ...) */
} folio_cuda_status;

typedef enum folio_cuda_kv_layout {
    FOLIO_CUDA_KV_LAYOUT_NHD = 0,
    FOLIO_CUDA_KV_LAYOUT_HND = 1
} folio_cuda_kv_layout;

typedef enum folio_cuda_dtype {
    FOLIO_CUDA_DTYPE_F16 = 0,
    FOLIO_CUDA_DTYPE_BF16 = 1,
    FOLIO_CUDA_DTYPE_F32 = 2 /* not the attention kernels */
} folio_cuda_dtype;

/* How folio_rope_inv_freq derives the rotary frequencies. */
typedef enum folio_cuda_rope_scaling {
    FOLIO_CUDA_ROPE_SCALING_NONE = 0,  /* inv_freq[i] = 1 / theta^(2i / rotary_dim) */
    FOLIO_CUDA_ROPE_SCALING_LLAMA3 = 1 /* Llama 3.1's: long wavelengths divided by factor, a smooth band between */
} folio_cuda_rope_scaling;

/* The kernels folio_paged_prefill can run: the caller's choice (folio_cuda_paged_prefill_params.kernel), and
 * the answer of folio_paged_prefill_kernel. */
typedef enum folio_cuda_prefill_kernel {
    FOLIO_CUDA_PREFILL_KERNEL_AUTO = 0,  /* the library's choice: SM90 where it applies (see folio_paged_prefill) */
    FOLIO_CUDA_PREFILL_KERNEL_SM80 = 80, /* mma.sync, every CUDA GPU the library targets */
    FOLIO_CUDA_PREFILL_KERNEL_SM90 = 90  /* wgmma (sm_90a), compute capability 9.0 */
} folio_cuda_prefill_kernel;

/* A view of one layer's paged KV cache (the layouts at the top of this header). Launchers take it by pointer
 * and read it on the host during the call; it holds no memory of its own. */
typedef struct folio_cuda_paged_kv {
    void* k_cache;          /* device, dtype */
    void* v_cache;          /* device, dtype, shaped as k_cache */
    int32_t num_blocks;
    int32_t block_size;     /* a power of two */
    int32_t num_kv_heads;
    int32_t head_dim;
    int32_t layout;         /* folio_cuda_kv_layout */
    int32_t dtype;          /* folio_cuda_dtype */
} folio_cuda_paged_kv;

/* The message of the last failed call on this thread ("" if none). Valid until this thread's next call. */
FOLIO_CUDA_API const char* folio_cuda_last_error(void);

/* Library version as MAJOR*10000 + MINOR*100 + PATCH. */
FOLIO_CUDA_API int32_t folio_cuda_version(void);

/* ---------------------------------------------------------------------------------------------------
 * Device memory and streams, so that a host without the CUDA runtime of its own (the .NET backend, a C
 * host) can hold the buffers and the stream the kernels need. Thin wrappers of the CUDA runtime on the
 * current device; failures return FOLIO_CUDA_STATUS_CUDA_ERROR with the runtime's message.
 *   folio_cuda_malloc:      *ptr = bytes of device memory (bytes 0 gives NULL and succeeds).
 *   folio_cuda_host_alloc:  *ptr = bytes of pinned host memory, mapped into the device's address space
 *                           (for folio_block_swap and asynchronous copies).
 *   folio_cuda_free / folio_cuda_host_free: release; NULL does nothing and succeeds.
 *   folio_cuda_stream_create: *stream = a new non-blocking stream; folio_cuda_stream_destroy releases it
 *                           (NULL does nothing) after the work enqueued on it completes.
 *   folio_cuda_memcpy_async: bytes from src to dst in stream order; either side may be device or pinned
 *                           (or pageable, then synchronously) host memory (unified addressing).
 *   folio_cuda_memset_async: bytes of dst set to the low byte of value, in stream order.
 *   folio_cuda_mem_get_info: free and total device memory of the current device, in bytes.
 * ------------------------------------------------------------------------------------------------- */
FOLIO_CUDA_API int32_t folio_cuda_malloc(size_t bytes, void** ptr);
FOLIO_CUDA_API int32_t folio_cuda_free(void* ptr);
FOLIO_CUDA_API int32_t folio_cuda_host_alloc(size_t bytes, void** ptr);
FOLIO_CUDA_API int32_t folio_cuda_host_free(void* ptr);
FOLIO_CUDA_API int32_t folio_cuda_stream_create(void** stream);
FOLIO_CUDA_API int32_t folio_cuda_stream_destroy(void* stream);
FOLIO_CUDA_API int32_t folio_cuda_stream_synchronize(void* stream);
FOLIO_CUDA_API int32_t folio_cuda_memcpy_async(void* dst, const void* src, size_t bytes, void* stream);
FOLIO_CUDA_API int32_t folio_cuda_memset_async(void* dst, int32_t value, size_t bytes, void* stream);
FOLIO_CUDA_API int32_t folio_cuda_mem_get_info(size_t* free_bytes, size_t* total_bytes);

/* ---------------------------------------------------------------------------------------------------
 * Events and graphs, for the GPU backend's step loop: ordering between streams, GPU-side timing, and decode
 * steps captured once per batch-size bucket and replayed. Thin wrappers of the CUDA runtime on the current
 * device; failures return FOLIO_CUDA_STATUS_CUDA_ERROR with the runtime's message.
 *   folio_cuda_event_create: *event = a new event; timing 1 records timestamps (folio_cuda_event_elapsed_ms),
 *                           timing 0 does not (cheaper to record and wait on). folio_cuda_event_destroy releases
 *                           it (NULL does nothing).
 *   folio_cuda_event_record: the event completes when the work enqueued on stream before it has.
 *   folio_cuda_event_synchronize: waits on the host for the event's last record.
 *   folio_cuda_event_elapsed_ms: *milliseconds between two completed records of timing events.
 *   folio_cuda_stream_wait_event: work enqueued on stream after this waits for the event's last record.
 *   folio_cuda_stream_begin_capture / _end_capture: the work enqueued on stream in between is not run but
 *                           recorded into *graph (capture mode thread-local: this thread's capture-unsafe calls,
 *                           such as folio_cuda_malloc or a synchronisation, fail while it captures). The stream
 *                           must be one of folio_cuda_stream_create (the legacy default stream cannot be captured).
 *                           Every launcher of this header can be captured; the pointers and sizes captured are
 *                           replayed as they were, so a replay reads the same buffers (update their contents).
 *   folio_cuda_graph_instantiate: *exec = an executable graph of graph (graph can then be destroyed).
 *   folio_cuda_graph_launch: enqueues one replay of exec on stream.
 *   folio_cuda_graph_destroy / folio_cuda_graph_exec_destroy: release (NULL does nothing).
 * ------------------------------------------------------------------------------------------------- */
FOLIO_CUDA_API int32_t folio_cuda_event_create(int32_t timing, void** event);
FOLIO_CUDA_API int32_t folio_cuda_event_destroy(void* event);
FOLIO_CUDA_API int32_t folio_cuda_event_record(void* event, void* stream);
FOLIO_CUDA_API int32_t folio_cuda_event_synchronize(void* event);
FOLIO_CUDA_API int32_t folio_cuda_event_elapsed_ms(void* start, void* end, float* milliseconds);
FOLIO_CUDA_API int32_t folio_cuda_stream_wait_event(void* stream, void* event);
FOLIO_CUDA_API int32_t folio_cuda_stream_begin_capture(void* stream);
FOLIO_CUDA_API int32_t folio_cuda_stream_end_capture(void* stream, void** graph);
FOLIO_CUDA_API int32_t folio_cuda_graph_instantiate(void* graph, void** exec);
FOLIO_CUDA_API int32_t folio_cuda_graph_launch(void* exec, void* stream);
FOLIO_CUDA_API int32_t folio_cuda_graph_destroy(void* graph);
FOLIO_CUDA_API int32_t folio_cuda_graph_exec_destroy(void* exec);

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

/* ===================================================================================================
 * Model ops: the layers of a decoder around attention, for the GPU model runner. dtype is F32, BF16 or F16
 * (a folio_cuda_dtype); the math is fp32 and each output is rounded to dtype once, unless a function says
 * otherwise. Tensors are row-major and contiguous unless a stride is given (strides count elements).
 * =================================================================================================== */

/* Embedding gather: out[t, :] = table[token_ids[t], :].
 *   table: [vocab_size, hidden]; out: [num_tokens, hidden]; element_size bytes per element (any dtype).
 *   token_ids: int32 [num_tokens]; an id outside [0, vocab_size) gives a row of zeros (never a read out of
 *   bounds: ids are the sampler's or the host's output, validated there). */
FOLIO_CUDA_API int32_t folio_embedding_gather(
    void* out, const void* table, const int32_t* token_ids, int32_t num_tokens, int32_t vocab_size,
    int32_t hidden, int32_t element_size, void* stream);

/* Residual add fused with RMSNorm, the join of a pre-norm decoder layer:
 *   with residual != NULL:  residual[t] = dtype(residual[t] + x[t]);  r = residual[t]  (in place)
 *   with residual == NULL:  r = x[t]
 *   out[t] = dtype(dtype(r * rsqrt(mean(r^2) + eps)) * weight)
 * r is read back as dtype before the norm and the product with weight is rounded separately, as Hugging Face's
 * LlamaRMSNorm computes it (mean and rsqrt in fp32).
 *   out, x, residual: [num_tokens, hidden]; weight: [hidden]; out may be x (in place). */
FOLIO_CUDA_API int32_t folio_add_rms_norm(
    void* out, void* residual, const void* x, const void* weight, int32_t num_tokens, int32_t hidden,
    float eps, int32_t dtype, void* stream);

/* SiLU and multiply, the gated MLP: out[t, i] = dtype(dtype(silu(x[t, i])) * x[t, intermediate + i]), i.e.
 * F.silu(gate) * up over the fused gate_up projection x.
 *   x: [num_tokens, >= 2 * intermediate], rows x_row_stride elements apart; out: [num_tokens, intermediate]. */
FOLIO_CUDA_API int32_t folio_silu_and_mul(
    void* out, const void* x, int32_t num_tokens, int32_t intermediate, int64_t x_row_stride, int32_t dtype,
    void* stream);

/* Rotary frequencies (host side): the model's config as read from its config.json. */
typedef struct folio_cuda_rope_config {
    uint32_t struct_size;
    int32_t rotary_dim;                /* even, in (0, 512]: head_dim unless the model rotates part of each head */
    float theta;                       /* rope_theta, > 1 */
    int32_t scaling;                   /* folio_cuda_rope_scaling */
    float factor;                      /* LLAMA3: rope_scaling.factor (8 for Llama 3.1), >= 1 */
    float low_freq_factor;             /* LLAMA3: 1 for Llama 3.1 */
    float high_freq_factor;            /* LLAMA3: 4 for Llama 3.1, > low_freq_factor */
    int32_t original_max_position;     /* LLAMA3: original_max_position_embeddings (8192), > 0 */
} folio_cuda_rope_config;

/* Writes the rotary_dim / 2 inverse frequencies of config into inv_freq (HOST memory, count entries, count
 * == rotary_dim / 2), in fp32 as transformers computes them; upload them once for folio_rope_kv_write. */
FOLIO_CUDA_API int32_t folio_rope_inv_freq(const folio_cuda_rope_config* config, float* inv_freq, int32_t count);

/* RoPE fused with the KV write: rotates each token's query and key heads by its position (the rotate-half
 * form of Llama, Mistral and Qwen: dimension i pairs with i + rotary_dim/2; dimensions past rotary_dim pass
 * through), writes the rotated queries to q_out and the rotated key and the value into the token's cache slot.
 * Angles are position * inv_freq[i] in fp32, cos and sin in fp32, one rounding to dtype per output. */
typedef struct folio_cuda_rope_kv_write_params {
    uint32_t struct_size;
    int32_t num_tokens;
    int32_t num_q_heads;           /* a multiple of the cache's num_kv_heads */
    int32_t rotary_dim;            /* even, 0 < rotary_dim <= head_dim */
    void* q_out;                   /* [num_tokens, num_q_heads, head_dim], contiguous (the attention's q) */
    const void* q;                 /* [num_tokens, num_q_heads, head_dim], heads contiguous, tokens
                                      q_token_stride elements apart (a slice of the fused QKV projection) */
    const void* k;                 /* [num_tokens, num_kv_heads, head_dim], tokens k_token_stride apart */
    const void* v;                 /* [num_tokens, num_kv_heads, head_dim], tokens v_token_stride apart */
    int64_t q_token_stride;
    int64_t k_token_stride;
    int64_t v_token_stride;
    const int32_t* positions;      /* int32 [num_tokens], >= 0 */
    const int64_t* slot_mapping;   /* int64 [num_tokens]: as folio_kv_write (negative: no cache write, q is
                                      still rotated; >= num_blocks * block_size: skipped too); distinct */
    const float* inv_freq;         /* fp32 [rotary_dim / 2] (folio_rope_inv_freq) */
} folio_cuda_rope_kv_write_params;

FOLIO_CUDA_API int32_t folio_rope_kv_write(
    const folio_cuda_paged_kv* cache, const folio_cuda_rope_kv_write_params* params, void* stream);

/* ---------------------------------------------------------------------------------------------------
 * Sampling on the GPU, one row of logits per sequence, as Folio's CPU sampler (LogitsSampler) defines it:
 *   1. w = logits in fp32; ids >= valid_vocab and the row's suppressed ids are -inf;
 *   2. repetition penalty r on each distinct id of the prompt and output lists: w > 0 ? w / r : w * r;
 *   3. w[t] -= frequency_penalty * count(t in output) + presence_penalty, for each id in the output list;
 *   4. logprobs = log_softmax(w) (after penalties, before temperature and filters);
 *   5. temperature <= 0: the argmax (ties: the lowest id). Otherwise, over d = (w - max(w)) / temperature:
 *      top-k keeps the k largest (all ties at the k-th value are kept), top-p the most likely tokens whose
 *      probability (renormalised over the top-k set) first reaches top_p, min-p those with exp(d) >= min_p;
 *      then one draw from the kept tokens in proportion to exp(d): argmax of d + Gumbel noise, the noise of
 *      id i a Philox-4x32-10 draw keyed by seed and counted by (draw_index, i), so a row's token depends only
 *      on its own logits, parameters, seed and draw_index, never on the batch around it. Give each sequence
 *      its own seed (n > 1 samples of one request too) and its draw count as draw_index.
 * The draws are not the CPU sampler's (it draws by inverse CDF); the distribution is the same.
 * ------------------------------------------------------------------------------------------------- */
typedef struct folio_cuda_sample_params {
    uint32_t struct_size;
    int32_t num_rows;
    int32_t vocab_size;              /* columns of logits, 1 .. 262144 */
    int32_t dtype;                   /* of logits: F32, BF16 or F16 */
    const void* logits;              /* [num_rows, vocab_size], rows logits_row_stride elements apart */
    int64_t logits_row_stride;
    /* Per-row parameters: device arrays of num_rows entries; NULL gives every row the "off" value. */
    const float* temperature;        /* <= 0: greedy; NULL: greedy */
    const int32_t* top_k;            /* <= 0: off */
    const float* top_p;              /* >= 1: off */
    const float* min_p;              /* <= 0: off */
    const float* presence_penalty;   /* 0: off */
    const float* frequency_penalty;  /* 0: off */
    const float* repetition_penalty; /* 1: off */
    const uint64_t* seeds;           /* NULL: seed 0 */
    const uint64_t* draw_index;      /* NULL: 0 */
    /* Token lists, compressed rows: row r's ids are ids[offsets[r] .. offsets[r + 1]); a NULL ids pointer is
       an empty list for every row; ids outside [0, vocab_size) are ignored. */
    const int32_t* prompt_tokens;
    const int32_t* prompt_offsets;   /* [num_rows + 1] */
    const int32_t* output_tokens;
    const int32_t* output_offsets;
    const int32_t* suppressed_tokens;
    const int32_t* suppressed_offsets;
    int32_t valid_vocab;             /* ids >= valid_vocab are never sampled (padding rows); 0: vocab_size */
    int32_t num_logprobs;            /* 0 .. FOLIO_CUDA_MAX_LOGPROBS top logprobs per row */
    int32_t* sampled;                /* out: int32 [num_rows] */
    float* sampled_logprobs;         /* out, or NULL: [num_rows], the logprob of each sampled id */
    int32_t* top_ids;                /* out when num_logprobs > 0: [num_rows, num_logprobs], best first,
                                        ties to the lower id */
    float* top_logprobs;             /* out when num_logprobs > 0: [num_rows, num_logprobs] */
    void* workspace;                 /* folio_sample_workspace_size bytes; no zero-fill needed */
    size_t workspace_bytes;
} folio_cuda_sample_params;

FOLIO_CUDA_API int32_t folio_sample_workspace_size(int32_t num_rows, int32_t vocab_size, size_t* workspace_bytes);

FOLIO_CUDA_API int32_t folio_sample(const folio_cuda_sample_params* params, void* stream);

/* ---------------------------------------------------------------------------------------------------
 * Linear layers through cuBLASLt: out = x . weight^T (+ bias), the projections of a decoder.
 *   x:      [m, k], row-major, contiguous;  weight: [n, k], row-major (as checkpoints store a Linear's weight);
 *   bias:   [n] or NULL;                      out:    [m, n], row-major, contiguous.
 *   dtype:  of all four. F32: fp32 inputs and fp32 arithmetic (TF32 off: the exact mode of the parity tests);
 *           BF16 / F16: 16-bit inputs, fp32 accumulation, one rounding of out to dtype (bias added before it).
 * The handle (folio_cuda_blas_create) owns the cuBLASLt handle and a cache of the plans (layouts and the
 * heuristic's algorithm) per shape, so a steady step pays no heuristic query; use one handle per host thread.
 * workspace: device memory for cuBLASLt (FOLIO_CUDA_GEMM_WORKSPACE_BYTES is enough for every plan; NULL with 0
 * bytes restricts the algorithms to those needing none; 33554432 is 32 MiB). With a workspace and a warmed plan cache, a GEMM can be
 * captured into a CUDA graph.
 * flags: 0, or FOLIO_CUDA_GEMM_BATCH_INVARIANT (F32 only): each output is summed over k in index order by one
 * thread of Folio's own kernel instead of cuBLASLt (whose algorithm, and so its rounding, depends on m), so a
 * row's result is bitwise the same whatever m and its place in x. Slower; for the engine's exact fp32 mode.
 * ------------------------------------------------------------------------------------------------- */
#define FOLIO_CUDA_GEMM_WORKSPACE_BYTES 33554432
#define FOLIO_CUDA_GEMM_BATCH_INVARIANT 1

typedef struct folio_cuda_gemm_params {
    uint32_t struct_size;
    int32_t m;                     /* rows of x and out, >= 0 (0: nothing to do) */
    int32_t n;                     /* output features (rows of weight), > 0 */
    int32_t k;                     /* input features, > 0 */
    int32_t dtype;                 /* folio_cuda_dtype */
    int32_t flags;                 /* 0 or FOLIO_CUDA_GEMM_BATCH_INVARIANT (2.1: reserved, 0) */
    void* out;
    const void* x;
    const void* weight;
    const void* bias;              /* or NULL */
    void* workspace;
    size_t workspace_bytes;
} folio_cuda_gemm_params;

FOLIO_CUDA_API int32_t folio_cuda_blas_create(void** blas);
FOLIO_CUDA_API int32_t folio_cuda_blas_destroy(void* blas);
FOLIO_CUDA_API int32_t folio_gemm(void* blas, const folio_cuda_gemm_params* params, void* stream);

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

#ifdef __cplusplus
}
#endif

#endif /* FOLIO_CUDA_H */
