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
 * reserved field into flags, with FOLIO_CUDA_GEMM_BATCH_INVARIANT (0 keeps 2.1's behaviour). 2.3.0 added
 * folio_head_rms_norm (Qwen3's per-head query and key norms).
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
#define FOLIO_CUDA_VERSION_MINOR 3
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

/* The declarations, by subject (each part says what it holds; they are one specification, in this order). */
#include "folio_cuda_runtime.h"    /* device memory, streams, events, graphs */
#include "folio_cuda_attention.h"  /* paged attention, KV write, block moves */
#include "folio_cuda_model_ops.h"  /* model ops, sampling, GEMM */

#ifdef __cplusplus
}
#endif

#endif /* FOLIO_CUDA_H */
