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

int main(void) {
    int failures = 0;
    size_t bytes = 0;
    failures += expect("decode head_dim 96",
                       folio_paged_attention_decode_workspace_size(1, 8, 8, 96, 16, &bytes),
                       FOLIO_CUDA_STATUS_UNSUPPORTED);
    failures += expect("decode q heads not a multiple",
                       folio_paged_attention_decode(NULL, NULL, NULL, NULL, NULL, NULL, 1, 6, 4, 128, 16,
                                                    FOLIO_CUDA_KV_LAYOUT_NHD, 1, 16, 1.0f,
                                                    FOLIO_CUDA_DTYPE_BF16, NULL, 0, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    failures += expect("prefill null pointers",
                       folio_paged_prefill(NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2, 8, 8, 64, 16, FOLIO_CUDA_KV_LAYOUT_HND, 4,
                                           10, 1.0f,
                                           FOLIO_CUDA_DTYPE_F16, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    failures += expect("kv_write short stride",
                       folio_kv_write(NULL, NULL, NULL, NULL, NULL, 4, 8, 128, 16, FOLIO_CUDA_KV_LAYOUT_NHD, 100, 1024, 64,
                                      2, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    failures += expect("block_copy odd block_bytes", folio_block_copy(NULL, 2, NULL, 3, 10, 100, NULL),
                       FOLIO_CUDA_STATUS_INVALID_ARGUMENT);
    failures += expect("block_swap negative pairs", folio_block_swap(NULL, NULL, 2, NULL, -1, 4, 4, 4096, NULL),
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
    /* Not a refusal: which prefill kernel a call would take. fp32 and head_dim 96 never take the sm_90a one. */
    if (folio_paged_prefill_kernel(128, 0.1f, FOLIO_CUDA_DTYPE_F32) != FOLIO_CUDA_PREFILL_KERNEL_SM80 ||
        folio_paged_prefill_kernel(96, 0.1f, FOLIO_CUDA_DTYPE_BF16) != FOLIO_CUDA_PREFILL_KERNEL_SM80) {
        printf("FAIL prefill kernel query\n");
        ++failures;
    } else {
        printf("ok   prefill kernel query: fp32 and head_dim 96 take the sm80 kernel\n");
    }
    if (folio_cuda_version() / 10000 != FOLIO_CUDA_VERSION_MAJOR) {
        printf("FAIL version: library %d, header major %d\n", folio_cuda_version(), FOLIO_CUDA_VERSION_MAJOR);
        ++failures;
    }
    printf("%s\n", failures == 0 ? "header_check: all refusals correct" : "header_check: FAILED");
    return failures == 0 ? 0 : 1;
}
