/* test_robustness.c: every kind of bad input through the ABI returns its documented status with a message, and
 * the process keeps running (also built with AddressSanitizer as test_robustness_asan).
 *   test_robustness              everything except model folders
 *   test_robustness model-folder a missing and a corrupt model folder (exit 77 = skipped when this build
 *                                cannot load model folders at all) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "engine_fixture.h"
#include "folio.h"

static void test_library(void) {
    EXPECT_TRUE(folio_abi_version() == FOLIO_ABI_VERSION);
    EXPECT_TRUE(strcmp(folio_status_name(FOLIO_STATUS_INVALID_HANDLE), "INVALID_HANDLE") == 0);
    EXPECT_TRUE(strcmp(folio_status_name(FOLIO_STATUS_INVALID_UTF8), "INVALID_UTF8") == 0);
    EXPECT_TRUE(strcmp(folio_status_name(12345), "UNKNOWN") == 0);
    EXPECT(folio_engine_params_init(NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_sampling_params_init(NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_kv_manager_params_init(NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_params_init(NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    folio_sampling_params sp;
    sp.struct_size = sizeof sp;
    EXPECT(folio_sampling_params_init(&sp), FOLIO_STATUS_OK);
    EXPECT_TRUE(sp.struct_size == sizeof sp && sp.n == 1 && sp.top_p == 1.0f && sp.logprobs == -1);
}

/* struct_size: too small, too large with a non-zero tail, absurd → STRUCT_SIZE; larger with a zero tail → OK. */
static void test_struct_size(void) {
    union {
        folio_engine_params p;
        unsigned char bytes[512];
    } big;
    folio_engine* e = NULL;
    memset(&big, 0, sizeof big);
    big.p.struct_size = sizeof big.p;
    folio_engine_params_init(&big.p);
    big.p.model = "builtin:fake";
    big.p.model_len = 12;
    big.p.num_gpu_blocks = 8;
    big.p.struct_size = 0;
    EXPECT(folio_engine_create(&big.p, &e), FOLIO_STATUS_STRUCT_SIZE);
    big.p.struct_size = sizeof(folio_engine_params) - 1;
    EXPECT(folio_engine_create(&big.p, &e), FOLIO_STATUS_STRUCT_SIZE);
    big.p.struct_size = 1u << 30;
    EXPECT(folio_engine_create(&big.p, &e), FOLIO_STATUS_STRUCT_SIZE);
    big.p.struct_size = sizeof big;
    EXPECT(folio_engine_create(&big.p, &e), FOLIO_STATUS_OK); /* a newer header's zeroed fields */
    folio_engine_destroy(e);
    e = NULL;
    big.bytes[sizeof(folio_engine_params) + 3] = 1;
    EXPECT(folio_engine_create(&big.p, &e), FOLIO_STATUS_STRUCT_SIZE); /* a newer field set: refused */
    EXPECT_TRUE(e == NULL);

    e = make_engine();
    folio_sampling_params sp = sampling();
    uint64_t id = 0;
    sp.struct_size = 8;
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_STRUCT_SIZE);
    folio_stats stats;
    stats.struct_size = 16;
    EXPECT(folio_engine_get_stats(e, &stats), FOLIO_STATUS_STRUCT_SIZE);
    stats.struct_size = 100000;
    EXPECT(folio_engine_get_stats(e, &stats), FOLIO_STATUS_STRUCT_SIZE);
    union {
        folio_stats s;
        unsigned char bytes[256];
    } wide;
    memset(&wide, 0xAB, sizeof wide);
    wide.s.struct_size = sizeof wide;
    EXPECT(folio_engine_get_stats(e, &wide.s), FOLIO_STATUS_OK);
    EXPECT_TRUE(wide.s.struct_size == sizeof wide && wide.bytes[sizeof(folio_stats)] == 0 && wide.s.kv_blocks_total == 64);
    folio_engine_destroy(e);
}

static void test_engine_params(void) {
    folio_engine_params p;
    folio_engine* e = NULL;
#define BAD_PARAM(field, value, status)                      \
    p.struct_size = sizeof p;                                \
    folio_engine_params_init(&p);                            \
    p.model = "builtin:fake";                                \
    p.model_len = 12;                                        \
    p.field = value;                                         \
    EXPECT(folio_engine_create(&p, &e), status);             \
    EXPECT_TRUE(strstr(folio_last_error(), #field) != NULL || status == FOLIO_STATUS_UNSUPPORTED);
    BAD_PARAM(device, 7, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(device, FOLIO_DEVICE_CUDA, FOLIO_STATUS_INVALID_ARGUMENT);   /* the fake model runs nowhere */
    BAD_PARAM(dtype, 9, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(dtype, FOLIO_DTYPE_FLOAT32, FOLIO_STATUS_INVALID_ARGUMENT);   /* the CPU computes in fp32: AUTO only */
    BAD_PARAM(kv_cache_dtype, 3, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(kv_cache_dtype, -1, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(gpu_memory_utilization, 1.5f, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(gpu_memory_utilization, -0.25f, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(block_size_tokens, 0, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(block_size_tokens, 4096, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(num_gpu_blocks, -1, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(num_cpu_blocks, -5, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(max_num_seqs, 0, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(max_num_batched_tokens, -1, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(enable_prefix_caching, 2, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(preemption_mode, 9, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(log_level, 6, FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_PARAM(num_threads, -2, FOLIO_STATUS_INVALID_ARGUMENT);
#undef BAD_PARAM
    p.struct_size = sizeof p;
    folio_engine_params_init(&p);
    EXPECT(folio_engine_create(NULL, &e), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_create(&p, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    p.model = "\xff\xfe";
    p.model_len = 2;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_INVALID_UTF8);
    p.model = "builtin:no-such-model";
    p.model_len = strlen(p.model);
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_MODEL_LOAD);
    p.model = "/nonexistent/folio/model";
    p.model_len = strlen(p.model);
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_MODEL_LOAD);
    EXPECT_TRUE(e == NULL);
    /* A real model on CUDA: where there is no GPU or no libfolio_cuda.so (CI) a MODEL_LOAD naming why, else an
       engine; the CPU-only quantization and KV cache dtype are refused on CUDA either way. */
    folio_engine_params_init(&p);
    p.device = FOLIO_DEVICE_CUDA;
    p.model = "builtin:tiny";
    p.model_len = strlen(p.model);
    p.num_gpu_blocks = 64;
    int32_t cuda = folio_engine_create(&p, &e);
    EXPECT_TRUE(cuda == FOLIO_STATUS_OK || (cuda == FOLIO_STATUS_MODEL_LOAD && folio_last_error()[0] != '\0'));
    if (cuda == FOLIO_STATUS_OK) folio_engine_destroy(e);
    e = NULL;
    p.quantization = FOLIO_QUANTIZATION_INT8;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_UNSUPPORTED);
    EXPECT_TRUE(strstr(folio_last_error(), "quantization") != NULL);
    EXPECT_TRUE(e == NULL);
    p.quantization = FOLIO_QUANTIZATION_NONE;
    p.kv_cache_dtype = FOLIO_KV_CACHE_DTYPE_BF16;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_UNSUPPORTED);
    EXPECT_TRUE(strstr(folio_last_error(), "kv_cache_dtype") != NULL);
    EXPECT_TRUE(e == NULL);
}

/* A destroyed handle, a handle of another type, and pointers this library never handed out. */
static void test_handles(void) {
    folio_engine* e = make_engine();
    int32_t vocab = 0;
    EXPECT(folio_engine_get_vocab_size(e, &vocab), FOLIO_STATUS_OK);
    folio_engine_destroy(e);
    EXPECT(folio_engine_get_vocab_size(e, &vocab), FOLIO_STATUS_INVALID_HANDLE);
    folio_sampling_params defaults;
    EXPECT(folio_engine_sampling_params_init(e, &defaults), FOLIO_STATUS_INVALID_HANDLE);
    folio_engine* reused = make_engine(); /* takes the freed slot: the stale handle must still fail */
    EXPECT(folio_engine_get_vocab_size(e, &vocab), FOLIO_STATUS_INVALID_HANDLE);
    EXPECT(folio_engine_get_vocab_size(reused, &vocab), FOLIO_STATUS_OK);
    folio_engine_destroy(e); /* a stale destroy must not destroy `reused` */
    EXPECT(folio_engine_get_vocab_size(reused, &vocab), FOLIO_STATUS_OK);

    int local = 0;
    folio_engine* foreign[] = {NULL, (folio_engine*)(uintptr_t)0x1234, (folio_engine*)(void*)&local,
                               (folio_engine*)(uintptr_t)UINT64_MAX, (folio_engine*)(uintptr_t)0xF000000000000001ull};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        folio_outputs* out = NULL;
        EXPECT(folio_engine_step(foreign[i], &out), FOLIO_STATUS_INVALID_HANDLE);
        EXPECT(folio_engine_cancel(foreign[i], 0), FOLIO_STATUS_INVALID_HANDLE);
        folio_engine_destroy(foreign[i]);
    }
    folio_kv_manager_params kp;
    kp.struct_size = sizeof kp;
    folio_kv_manager_params_init(&kp);
    kp.num_gpu_blocks = 8;
    folio_kv_manager* kv = NULL;
    EXPECT(folio_kv_manager_create(&kp, &kv), FOLIO_STATUS_OK);
    EXPECT(folio_engine_get_vocab_size((folio_engine*)(void*)kv, &vocab), FOLIO_STATUS_INVALID_HANDLE);
    folio_engine_destroy((folio_engine*)(void*)kv); /* another type: ignored */
    EXPECT(folio_kv_manager_check(kv), FOLIO_STATUS_OK);
    folio_outputs* outs = NULL;
    EXPECT(folio_engine_step(reused, &outs), FOLIO_STATUS_OK);
    uint64_t n = 0;
    EXPECT(folio_outputs_count((folio_outputs*)(void*)reused, &n), FOLIO_STATUS_INVALID_HANDLE);
    EXPECT(folio_outputs_count(outs, &n), FOLIO_STATUS_OK);
    folio_outputs_destroy(outs);
    EXPECT(folio_outputs_count(outs, &n), FOLIO_STATUS_INVALID_HANDLE);
    folio_outputs_destroy(outs);
    folio_outputs_destroy(NULL);
    folio_kv_manager_destroy(kv);
    folio_kv_manager_destroy(kv);
    folio_scheduler_destroy(NULL);
    folio_step_plan_destroy((folio_step_plan*)(uintptr_t)0x77);
    folio_engine_destroy(reused);
}

/* NULL for every pointer argument of the engine level. */
static void test_null_pointers(void) {
    folio_engine* e = make_engine();
    folio_sampling_params sp = sampling();
    int32_t ids[4] = {1, 2, 3, 4}, value = 0;
    uint64_t id = 0, count = 0;
    char text[64];
    folio_outputs* out = NULL;
    folio_stats stats;
    stats.struct_size = sizeof stats;
    const char* prompts[] = {"aabb", NULL};
    uint64_t lens[] = {4, 4};
    EXPECT(folio_engine_get_vocab_size(e, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_get_eos_token_id(e, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_sampling_params_init(e, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_tokenize(e, NULL, 4, 1, ids, 4, &count), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_tokenize(e, "aabb", 4, 1, ids, 4, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_tokenize(e, "aabb", 4, 1, NULL, 4, &count), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_detokenize(e, NULL, 4, text, sizeof text, &count), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_detokenize(e, ids, 4, NULL, sizeof text, &count), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_detokenize(e, ids, 4, text, sizeof text, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_add_text(e, NULL, 4, &sp, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_add_text(e, "aabb", 4, NULL, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_add_tokens(e, NULL, 4, &sp, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_add_tokens(e, ids, 4, NULL, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_add_tokens(e, ids, 4, &sp, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_step(e, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_has_unfinished(e, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_generate(e, NULL, lens, 1, &sp, &out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_generate(e, prompts, NULL, 1, &sp, &out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_generate(e, prompts, lens, 2, &sp, &out), FOLIO_STATUS_INVALID_ARGUMENT); /* prompts[1] */
    EXPECT(folio_engine_generate(e, prompts, lens, 1, NULL, &out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_generate(e, prompts, lens, 1, &sp, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_get_stats(e, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_set_stream_callback(e, NULL, NULL), FOLIO_STATUS_OK); /* NULL removes the callback */
    EXPECT(folio_engine_step(e, &out), FOLIO_STATUS_OK);
    EXPECT(folio_outputs_count(out, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_outputs_get(out, 0, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    folio_request_output ro;
    ro.struct_size = sizeof ro;
    EXPECT(folio_outputs_get(out, 0, &ro), FOLIO_STATUS_INVALID_ARGUMENT); /* index past the count */
    ro.struct_size = 4;
    EXPECT(folio_outputs_get(out, 0, &ro), FOLIO_STATUS_STRUCT_SIZE);
    folio_outputs_destroy(out);
    EXPECT(folio_engine_get_vocab_size(e, &value), FOLIO_STATUS_OK);
    EXPECT_TRUE(value == 64);
    folio_engine_destroy(e);
}

static void test_text_and_tokens(void) {
    folio_engine* e = make_engine();
    folio_sampling_params sp = sampling();
    uint64_t id = 0, count = 0;
    int32_t ids[8];
    const char* bad_utf8[] = {"\xff", "ab\xc0\xaf", "\xe2\x82", "\xed\xa0\x80", "aa\x80"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        EXPECT(folio_engine_tokenize(e, bad_utf8[i], strlen(bad_utf8[i]), 1, ids, 8, &count), FOLIO_STATUS_INVALID_UTF8);
        EXPECT(folio_engine_add_text(e, bad_utf8[i], strlen(bad_utf8[i]), &sp, &id), FOLIO_STATUS_INVALID_UTF8);
    }
    EXPECT(folio_engine_tokenize(e, "xyz!", 4, 1, ids, 8, &count), FOLIO_STATUS_INVALID_ARGUMENT); /* not in vocab */
    /* Size query: capacity 0 with NULL, then too small, then enough. */
    EXPECT(folio_engine_tokenize(e, "aabbccdd", 8, 1, NULL, 0, &count), FOLIO_STATUS_BUFFER_TOO_SMALL);
    EXPECT_TRUE(count == 4);
    EXPECT(folio_engine_tokenize(e, "aabbccdd", 8, 1, ids, 2, &count), FOLIO_STATUS_BUFFER_TOO_SMALL);
    EXPECT(folio_engine_tokenize(e, "aabbccdd", 8, 1, ids, 8, &count), FOLIO_STATUS_OK);
    EXPECT_TRUE(count == 4 && ids[0] == 0 && ids[1] == 9);
    char text[16];
    uint64_t len = 0;
    EXPECT(folio_engine_detokenize(e, ids, 4, text, 8, &len), FOLIO_STATUS_BUFFER_TOO_SMALL); /* 8 + NUL */
    EXPECT_TRUE(len == 8);
    EXPECT(folio_engine_detokenize(e, ids, 4, text, sizeof text, &len), FOLIO_STATUS_OK);
    EXPECT_TRUE(len == 8 && strcmp(text, "aabbccdd") == 0);
    int32_t out_of_range[][2] = {{1, -1}, {64, 1}, {INT32_MAX, 0}, {INT32_MIN, 3}};
    for (size_t i = 0; i < 4; i++) {
        EXPECT(folio_engine_detokenize(e, out_of_range[i], 2, text, sizeof text, &len), FOLIO_STATUS_TOKEN_OUT_OF_RANGE);
        EXPECT(folio_engine_add_tokens(e, out_of_range[i], 2, &sp, &id), FOLIO_STATUS_TOKEN_OUT_OF_RANGE);
    }
    EXPECT(folio_engine_add_tokens(e, ids, UINT64_MAX, &sp, &id), FOLIO_STATUS_INVALID_ARGUMENT); /* absurd count */
    EXPECT(folio_engine_cancel(e, 999999), FOLIO_STATUS_NOT_FOUND);
    EXPECT(folio_engine_add_tokens(e, ids, 4, &sp, &id), FOLIO_STATUS_OK);
    EXPECT(folio_engine_cancel(e, id), FOLIO_STATUS_OK);
    EXPECT(folio_engine_cancel(e, id), FOLIO_STATUS_NOT_FOUND);
    folio_engine_destroy(e);
}

/* After all of the above, the library still serves. */
static void test_still_serving(void) {
    folio_engine* e = make_engine();
    folio_sampling_params sp = sampling();
    const char* prompts[] = {"aabbcc"};
    uint64_t lens[] = {6};
    folio_outputs* out = NULL;
    EXPECT(folio_engine_generate(e, prompts, lens, 1, &sp, &out), FOLIO_STATUS_OK);
    folio_request_output ro;
    ro.struct_size = sizeof ro;
    EXPECT(folio_outputs_get(out, 0, &ro), FOLIO_STATUS_OK);
    EXPECT_TRUE(ro.num_tokens == 4 && ro.text_len == 8 && ro.finish_reason == FOLIO_FINISH_LENGTH);
    folio_outputs_destroy(out);
    folio_engine_destroy(e);
}

static int test_model_folders(void) {
    char dir[] = "/tmp/folio-corrupt-XXXXXX";
    if (mkdtemp(dir) == NULL) return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE* f = fopen(path, "w");
    fputs("{ this is not json", f);
    fclose(f);
    folio_engine_params p;
    p.struct_size = sizeof p;
    folio_engine_params_init(&p);
    p.model = dir;
    p.model_len = strlen(dir);
    folio_engine* e = NULL;
    int32_t status = folio_engine_create(&p, &e);
    remove(path);
    rmdir(dir);
    if (status == FOLIO_STATUS_UNSUPPORTED) {
        printf("skipped: this build cannot load model folders: %s\n", folio_last_error());
        return 77;
    }
    EXPECT(status, FOLIO_STATUS_MODEL_LOAD);
    EXPECT_TRUE(strstr(folio_last_error(), "config.json") != NULL);
    p.model = "/nonexistent/folio/model";
    p.model_len = strlen(p.model);
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_MODEL_LOAD);
    test_still_serving();
    return check_report("robustness model-folder");
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "model-folder") == 0) return test_model_folders();
    test_library();
    test_struct_size();
    test_engine_params();
    test_handles();
    test_null_pointers();
    test_text_and_tokens();
    test_still_serving();
    return check_report("robustness");
}
