/* header_check.c: builds against folio_cuda.h as plain C99 and exercises the error path of each entry
 * point (no GPU needed: every call below is refused by host-side validation before any CUDA call).
 * Exit status 0 when every refusal carries the expected status and a message. */
#include <stdio.h>
#include <string.h>

#include "folio_cuda.h"

static int expect(const char* what, int32_t got, int32_t want) {
    const char* msg = folio_cuda_last_error();
    if (got != want || msg == NULL || msg[0] == '\0') {
        printf("FAIL %s: status %d (want %d), message \"%s\"\n", what, got, want, msg ? msg : "(null)");
        return 1;
    }
    printf("ok   %s: %s\n", what, msg);
    return 0;
}

static folio_cuda_paged_kv view(int32_t block_size, int32_t num_kv_heads, int32_t head_dim, int32_t dtype) {
    folio_cuda_paged_kv cache;
    memset(&cache, 0, sizeof cache);
    cache.num_blocks = 8;
    cache.block_size = block_size;
    cache.num_kv_heads = num_kv_heads;
    cache.head_dim = head_dim;
    cache.layout = FOLIO_CUDA_KV_LAYOUT_NHD;
    cache.dtype = dtype;
    return cache;
}

int main(void) {
    int failures = 0;
    size_t bytes = 0;
    folio_cuda_paged_kv cache = view(16, 4, 128, FOLIO_CUDA_DTYPE_BF16);
    folio_cuda_paged_attention_decode_params decode;
    folio_cuda_paged_prefill_params prefill;
    folio_cuda_kv_write_params write;
    folio_cuda_block_move_params move;
    failures += expect("decode head_dim 96",
                       folio_paged_attention_decode_workspace_size(1, 8, 8, 96, 16, &bytes),
                       FOLIO_CUDA_STATUS_UNSUPPORTED);
    memset(&decode, 0, sizeof decode);
    decode.struct_size = sizeof decode;
    decode.num_seqs = 1;
    decode.num_q_heads = 6;
    decode.max_blocks_per_seq = 1;
    decode.max_context_len = 16;
    decode.scale = 1.0f;
    failures += expect("decode q heads not a multiple", folio_paged_attention_decode(&cache, &decode, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    decode.struct_size = 8;
    failures += expect("decode struct_size of an older header", folio_paged_attention_decode(&cache, &decode, NULL),
                       FOLIO_CUDA_STATUS_STRUCT_SIZE);
    decode.struct_size = sizeof decode;
    failures += expect("decode without a cache view", folio_paged_attention_decode(NULL, &decode, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    memset(&prefill, 0, sizeof prefill);
    prefill.struct_size = sizeof prefill;
    prefill.num_seqs = 2;
    prefill.num_q_heads = 8;
    prefill.max_blocks_per_seq = 4;
    prefill.max_query_len = 10;
    prefill.scale = 1.0f;
    prefill.kernel = FOLIO_CUDA_PREFILL_KERNEL_SM80;
    failures += expect("prefill null pointers", folio_paged_prefill(&cache, &prefill, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    prefill.kernel = 7;
    failures += expect("prefill unknown kernel", folio_paged_prefill(&cache, &prefill, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    prefill.kernel = FOLIO_CUDA_PREFILL_KERNEL_AUTO;
    cache.block_size = 12;
    failures += expect("prefill block_size not a power of two", folio_paged_prefill(&cache, &prefill, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    cache.block_size = 16;
    memset(&write, 0, sizeof write);
    write.struct_size = sizeof write;
    write.num_tokens = 4;
    write.key_token_stride = 100;
    write.value_token_stride = 1024;
    failures += expect("kv_write short stride", folio_kv_write(&cache, &write, NULL), FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    memset(&move, 0, sizeof move);
    move.struct_size = sizeof move;
    move.num_caches = 2;
    move.num_pairs = 3;
    folio_cuda_paged_kv tiny = view(1, 1, 2, FOLIO_CUDA_DTYPE_F16); /* 4-byte blocks */
    failures += expect("block_copy block bytes not a multiple of 16", folio_block_copy(&tiny, &move, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    move.host_num_blocks = 4;
    failures += expect("block_copy given a host pool", folio_block_copy(&cache, &move, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    move.num_pairs = -1;
    failures += expect("block_swap_out negative pairs", folio_block_swap_out(&cache, &move, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    move.num_pairs = 3;
    failures += expect("block_swap_in null pointer tables", folio_block_swap_in(&cache, &move, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    failures += expect("malloc null out-pointer", folio_cuda_malloc(16, NULL), FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    failures += expect("stream_create null out-pointer", folio_cuda_stream_create(NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    failures += expect("memcpy null source", folio_cuda_memcpy_async(&bytes, NULL, 8, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    /* One sign convention with folio.h: 0 is success, every error is negative. */
    if (FOLIO_CUDA_STATUS_INVALID_ARGUMENT >= 0 || FOLIO_CUDA_STATUS_UNSUPPORTED >= 0 ||
        FOLIO_CUDA_STATUS_CUDA_ERROR >= 0 || FOLIO_CUDA_STATUS_STRUCT_SIZE >= 0 ||
        FOLIO_CUDA_STATUS_WORKSPACE_TOO_SMALL >= 0) {
        printf("FAIL status sign: an error status is not negative\n");
        ++failures;
    } else {
        printf("ok   status sign: every error status is negative\n");
    }
    /* Which prefill kernel a call would take: fp32 and head_dim 96 never take the sm_90a one, so AUTO gives SM80
     * and asking for SM90 is refused (on any machine: no build or device can run it for head_dim 96). */
    if (folio_paged_prefill_kernel(FOLIO_CUDA_PREFILL_KERNEL_AUTO, 128, 0.1f, FOLIO_CUDA_DTYPE_F32) !=
            FOLIO_CUDA_PREFILL_KERNEL_SM80 ||
        folio_paged_prefill_kernel(FOLIO_CUDA_PREFILL_KERNEL_SM80, 128, 0.1f, FOLIO_CUDA_DTYPE_BF16) !=
            FOLIO_CUDA_PREFILL_KERNEL_SM80) {
        printf("FAIL prefill kernel query\n");
        ++failures;
    } else {
        printf("ok   prefill kernel query: AUTO takes the sm80 kernel for fp32, SM80 is SM80\n");
    }
    failures += expect("prefill kernel query: SM90 for head_dim 96",
                       folio_paged_prefill_kernel(FOLIO_CUDA_PREFILL_KERNEL_SM90, 96, 0.1f, FOLIO_CUDA_DTYPE_BF16),
                       FOLIO_CUDA_STATUS_UNSUPPORTED);
    failures += expect("prefill kernel query: not a kernel",
                       folio_paged_prefill_kernel(3, 128, 0.1f, FOLIO_CUDA_DTYPE_BF16),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    if (folio_cuda_version() / 10000 != FOLIO_CUDA_VERSION_MAJOR) {
        printf("FAIL version: library %d, header major %d\n", folio_cuda_version(), FOLIO_CUDA_VERSION_MAJOR);
        ++failures;
    }
    printf("%s\n", failures == 0 ? "header_check: all refusals correct" : "header_check: FAILED");
    return failures == 0 ? 0 : 1;
}
