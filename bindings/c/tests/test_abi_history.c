/* test_abi_history.c: a host built against an older released folio.h (tests/abi-history/folio-X.Y.h, chosen
 * with -DFOLIO_HISTORY_HEADER) runs against today's library. Every struct it hands over is exactly its own
 * header's sizeof, placed at the end of a page whose next page is PROT_NONE: a library that writes or reads
 * one byte past the host's struct_size faults at once (SIGSEGV; AddressSanitizer names the call), instead
 * of corrupting the host's heap quietly. Built with AddressSanitizer; one ctest per released header. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include FOLIO_HISTORY_HEADER

static int g_checks, g_failures;

#define EXPECT(call, expected) expect_status((call), (expected), #call, __LINE__)
#define EXPECT_TRUE(cond) expect_true((cond), #cond, __LINE__)

static void expect_status(int32_t got, int32_t expected, const char* what, int line) {
    g_checks++;
    if (got != expected) {
        g_failures++;
        fprintf(stderr, "line %d: %s: got %s (%d), expected %s: %s\n", line, what, folio_status_name(got), got,
                folio_status_name(expected), folio_last_error());
    }
}

static void expect_true(int cond, const char* what, int line) {
    g_checks++;
    if (!cond) {
        g_failures++;
        fprintf(stderr, "line %d: expected %s\n", line, what);
    }
}

/* `size` bytes that end where an inaccessible page begins (sizes here are multiples of their alignment). */
static void* guarded(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char* base = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + page, page, PROT_NONE) != 0) {
        perror("mmap");
        exit(2);
    }
    memset(base, 0xA5, page); /* garbage, as uninitialized memory would be */
    return base + page - size;
}

#define NEW(type) ((type*)guarded(sizeof(type)))

static void on_stream(const struct folio_request_output* output, void* user_data) {
    (void)output;
    ++*(int*)user_data;
}

static void test_engine(void) {
    folio_engine_params* p = NEW(folio_engine_params);
    p->struct_size = sizeof *p;
    EXPECT(folio_engine_params_init(p), FOLIO_STATUS_OK);
    EXPECT_TRUE(p->struct_size == sizeof *p && p->block_size_tokens == 16 && p->max_num_seqs == 256 && p->seed == 0);
#if FOLIO_ABI_VERSION_MINOR >= 5
    EXPECT_TRUE(p->kv_cache_dtype == FOLIO_KV_CACHE_DTYPE_AUTO);   /* init cleared the page's garbage */
#endif
    p->model = "builtin:fake";
    p->model_len = strlen(p->model);
    p->num_gpu_blocks = 64;
    p->block_size_tokens = 4;
    folio_engine* e = NULL;
    EXPECT(folio_engine_create(p, &e), FOLIO_STATUS_OK);

    folio_sampling_params* sp = NEW(folio_sampling_params);
    sp->struct_size = sizeof *sp;
    EXPECT(folio_sampling_params_init(sp), FOLIO_STATUS_OK);
    EXPECT_TRUE(sp->struct_size == sizeof *sp && sp->n == 1 && sp->max_tokens == 16 && sp->top_p == 1.0f &&
                sp->top_k == 0 && sp->logprobs == -1 && sp->num_stop == 0);
#if FOLIO_ABI_VERSION_MINOR >= 1
    EXPECT_TRUE(sp->beam_width == 0 && sp->length_penalty == 1.0f);
    EXPECT(folio_engine_sampling_params_init(e, sp), FOLIO_STATUS_OK);
    EXPECT_TRUE(sp->struct_size == sizeof *sp && sp->max_tokens == 16);
#endif
    sp->max_tokens = 3;
    sp->temperature = 0.0f;
    int streamed = 0;
    EXPECT(folio_engine_set_stream_callback(e, on_stream, &streamed), FOLIO_STATUS_OK);
    uint64_t id = 99;
    EXPECT(folio_engine_add_text(e, "aabbcc", 6, sp, &id), FOLIO_STATUS_OK);
    EXPECT_TRUE(id == 0);

    folio_request_output* out = NEW(folio_request_output);
    int32_t has = 1;
    int tokens = 0, finished = 0;
    for (int step = 0; step < 20 && has; step++) {
        folio_outputs* outputs = NULL;
        EXPECT(folio_engine_step(e, &outputs), FOLIO_STATUS_OK);
        uint64_t count = 0;
        EXPECT(folio_outputs_count(outputs, &count), FOLIO_STATUS_OK);
        for (uint64_t i = 0; i < count; i++) {
            out->struct_size = sizeof *out;
            EXPECT(folio_outputs_get(outputs, i, out), FOLIO_STATUS_OK);
            EXPECT_TRUE(out->struct_size == sizeof *out && out->request_id == 0 && out->num_prompt_tokens == 3);
            tokens += (int)out->num_tokens;
            finished += out->request_finished;
        }
        folio_outputs_destroy(outputs);
        EXPECT(folio_engine_has_unfinished(e, &has), FOLIO_STATUS_OK);
    }
    EXPECT_TRUE(tokens == 3 && finished == 1 && streamed >= 2);

    const char* prompts[] = {"aabb"};
    uint64_t lens[] = {4};
    folio_outputs* generated = NULL;
    EXPECT(folio_engine_generate(e, prompts, lens, 1, sp, &generated), FOLIO_STATUS_OK);
    out->struct_size = sizeof *out;
    EXPECT(folio_outputs_get(generated, 0, out), FOLIO_STATUS_OK);
    EXPECT_TRUE(out->num_tokens == 3 && out->finish_reason == FOLIO_FINISH_LENGTH && out->text_len == 6);
    folio_outputs_destroy(generated);

    folio_stats* stats = NEW(folio_stats);
    stats->struct_size = sizeof *stats;
    EXPECT(folio_engine_get_stats(e, stats), FOLIO_STATUS_OK);
    EXPECT_TRUE(stats->kv_blocks_total == 64 && stats->num_generated_tokens == 6);
    folio_engine_destroy(e);

    /* A struct_size no header had is refused, and nothing is written. */
    sp->struct_size = 0;
    EXPECT(folio_sampling_params_init(sp), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(sp->struct_size == 0 && sp->max_tokens == 3);
}

static void test_scheduler(void) {
    folio_kv_manager_params* kp = NEW(folio_kv_manager_params);
    kp->struct_size = sizeof *kp;
    EXPECT(folio_kv_manager_params_init(kp), FOLIO_STATUS_OK);
    kp->num_gpu_blocks = 16;
    kp->block_size_tokens = 4;
    folio_kv_manager* kv = NULL;
    EXPECT(folio_kv_manager_create(kp, &kv), FOLIO_STATUS_OK);
    folio_scheduler_params* sch = NEW(folio_scheduler_params);
    sch->struct_size = sizeof *sch;
    EXPECT(folio_scheduler_params_init(sch), FOLIO_STATUS_OK);
    EXPECT_TRUE(sch->max_num_seqs == 256 && sch->eos_token_id == -1);
    sch->vocab_size = 100;
    folio_scheduler* s = NULL;
    EXPECT(folio_scheduler_create(kv, sch, &s), FOLIO_STATUS_OK);
    folio_sampling_params* sp = NEW(folio_sampling_params);
    sp->struct_size = sizeof *sp;
    EXPECT(folio_sampling_params_init(sp), FOLIO_STATUS_OK);
    sp->max_tokens = 2;
    const int32_t prompt[] = {1, 2, 3, 4, 5};
    uint64_t id = 9;
    EXPECT(folio_scheduler_add_request(s, prompt, 5, sp, &id), FOLIO_STATUS_OK);
    folio_step_plan* plan = NULL;
    EXPECT(folio_scheduler_schedule(s, &plan), FOLIO_STATUS_OK);
    folio_step_plan_view* view = NEW(folio_step_plan_view);
    view->struct_size = sizeof *view;
    EXPECT(folio_step_plan_get(plan, view), FOLIO_STATUS_OK);
    EXPECT_TRUE(view->num_seqs == 1 && view->num_tokens == 5 && view->num_sampled == 1);
    const int32_t sampled[] = {7};
    folio_outputs* outputs = NULL;
    EXPECT(folio_scheduler_update(s, plan, sampled, NULL, 1, &outputs), FOLIO_STATUS_OK);
    folio_outputs_destroy(outputs);
    folio_step_plan_destroy(plan);
    folio_scheduler_destroy(s);
    folio_kv_manager_destroy(kv);
}

int main(void) {
    uint32_t version = folio_abi_version();
    /* A host built against an older header runs on a library of the same major and any later minor. */
    EXPECT_TRUE(version >> 16 == FOLIO_ABI_VERSION_MAJOR && (int)(version & 0xFFFF) >= (int)FOLIO_ABI_VERSION_MINOR);
    test_engine();
    test_scheduler();
    printf("abi_history host %d.%d on library %u.%u: %d checks, %d failed\n", FOLIO_ABI_VERSION_MAJOR,
           FOLIO_ABI_VERSION_MINOR, version >> 16, version & 0xFFFF, g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}
