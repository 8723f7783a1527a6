/* test_concurrency.c: 16 host threads add and cancel 10,000 requests in all while another thread steps the
 * engine. Every request must end exactly once; every request that was not cancelled must get exactly the
 * tokens that the same request gets on an unloaded engine (the fake model's tokens depend only on a request's
 * history and seed, so batching, chunking and preemption must not change them); a cancelled one gets a prefix
 * of them; and at the end every KV block is free. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "folio.h"

#define THREADS 16
#define TOTAL 10000
#define PER_THREAD (TOTAL / THREADS)
#define MAX_PROMPT 40
#define MAX_TOKENS 16

typedef struct {
    int32_t prompt[MAX_PROMPT];
    int32_t prompt_len;
    int32_t max_tokens;
    int32_t cancel; /* 1: the adder cancels it right after adding */
} spec;

typedef struct {
    int32_t tokens[MAX_TOKENS];
    int32_t num_tokens;
    int32_t num_finished; /* outputs with request_finished = 1: must end at exactly 1 */
    int32_t finish_reason;
} result;

static spec g_specs[TOTAL];
static result g_got[TOTAL], g_ref[TOTAL];
static int64_t g_spec_of_id[TOTAL];
static int32_t g_cancel_status[TOTAL];
static atomic_int g_adders_done;
static atomic_int g_add_failures;
static folio_engine* g_engine;

static folio_engine* make_engine(int32_t blocks, int32_t max_seqs) {
    folio_engine_params p;
    p.struct_size = sizeof p;
    folio_engine_params_init(&p);
    p.model = "builtin:fake";
    p.model_len = strlen(p.model);
    p.num_gpu_blocks = blocks;
    p.block_size_tokens = 4;
    p.max_num_seqs = max_seqs;
    p.max_num_batched_tokens = 256;
    folio_engine* e = NULL;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    return e;
}

static int32_t add(folio_engine* e, int k, uint64_t* id) {
    folio_sampling_params sp;
    sp.struct_size = sizeof sp;
    folio_sampling_params_init(&sp);
    sp.max_tokens = g_specs[k].max_tokens;
    sp.temperature = 0.7f;
    sp.has_seed = 1;
    sp.seed = (uint64_t)k * 7919u;
    return folio_engine_add_tokens(e, g_specs[k].prompt, (uint64_t)g_specs[k].prompt_len, &sp, id);
}

/* Records one step's outputs into `results` (indexed by request id). Returns requests finished. */
static int collect(folio_outputs* outputs, result* results) {
    uint64_t n = 0;
    int finished = 0;
    folio_outputs_count(outputs, &n);
    for (uint64_t i = 0; i < n; i++) {
        folio_request_output o;
        o.struct_size = sizeof o;
        if (folio_outputs_get(outputs, i, &o) != FOLIO_STATUS_OK || o.request_id >= TOTAL) {
            atomic_fetch_add(&g_add_failures, 1);
            continue;
        }
        result* r = &results[o.request_id];
        if (o.request_finished) {
            r->num_finished++;
            r->finish_reason = o.finish_reason;
            finished++;
        }
        for (uint64_t t = 0; t < o.num_tokens; t++) {
            if (r->num_tokens < MAX_TOKENS) r->tokens[r->num_tokens] = o.token_ids[t];
            r->num_tokens++;
        }
    }
    return finished;
}

static void* adder(void* arg) {
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        int k = t * PER_THREAD + i;
        uint64_t id = 0;
        if (add(g_engine, k, &id) != FOLIO_STATUS_OK || id >= TOTAL) {
            fprintf(stderr, "add %d failed: %s\n", k, folio_last_error());
            atomic_fetch_add(&g_add_failures, 1);
            continue;
        }
        g_spec_of_id[id] = k;
        if (g_specs[k].cancel) {
            if (i % 3 == 0) sched_yield(); /* sometimes cancel while it runs, sometimes before it starts */
            g_cancel_status[k] = folio_engine_cancel(g_engine, id);
        }
        if (i % 8 == 0) sched_yield();
    }
    atomic_fetch_add(&g_adders_done, 1);
    return NULL;
}

/* Destroying an engine while another thread steps it: the stepper sees INVALID_HANDLE, never a crash. */
static atomic_int g_steps_before_destroy;
static void* stepper(void* arg) {
    folio_engine* e = (folio_engine*)arg;
    for (;;) {
        folio_outputs* o = NULL;
        int32_t status = folio_engine_step(e, &o);
        if (status != FOLIO_STATUS_OK) return (void*)(intptr_t)status;
        folio_outputs_destroy(o);
        atomic_fetch_add(&g_steps_before_destroy, 1);
    }
}

static void test_destroy_while_stepping(void) {
    folio_engine* e = make_engine(256, 32);
    for (int k = 0; k < 200; k++) {
        uint64_t id = 0;
        EXPECT(add(e, k, &id), FOLIO_STATUS_OK);
    }
    pthread_t thread;
    pthread_create(&thread, NULL, stepper, e);
    while (atomic_load(&g_steps_before_destroy) < 5) sched_yield();
    folio_engine_destroy(e);
    void* stepper_status = NULL;
    pthread_join(thread, &stepper_status);
    EXPECT_TRUE((int32_t)(intptr_t)stepper_status == FOLIO_STATUS_INVALID_HANDLE);
    uint64_t id = 0;
    EXPECT(add(e, 0, &id), FOLIO_STATUS_INVALID_HANDLE);
}

int main(void) {
    srand(12345);
    for (int k = 0; k < TOTAL; k++) {
        g_specs[k].prompt_len = 1 + rand() % MAX_PROMPT;
        for (int j = 0; j < g_specs[k].prompt_len; j++) g_specs[k].prompt[j] = rand() % 64;
        g_specs[k].max_tokens = 1 + rand() % MAX_TOKENS;
        g_specs[k].cancel = k % 10 == 3;
        g_spec_of_id[k] = -1;
    }

    /* Reference: each request's tokens from an engine with room for everything (ids follow spec order). */
    folio_engine* ref = make_engine(65536, 256);
    for (int k = 0; k < TOTAL; k++) {
        uint64_t id = 0;
        EXPECT(add(ref, k, &id), FOLIO_STATUS_OK);
        EXPECT_TRUE(id == (uint64_t)k);
    }
    int32_t unfinished = 1;
    while (unfinished) {
        folio_outputs* o = NULL;
        EXPECT(folio_engine_step(ref, &o), FOLIO_STATUS_OK);
        collect(o, g_ref);
        folio_outputs_destroy(o);
        folio_engine_has_unfinished(ref, &unfinished);
    }
    folio_engine_destroy(ref);

    /* The stress run: 128 blocks of 4 tokens for up to 32 sequences forces preemption all the time. */
    g_engine = make_engine(128, 32);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, adder, (void*)(intptr_t)t);
    int finished = 0;
    long steps = 0;
    time_t start = time(NULL);
    while (finished < TOTAL && time(NULL) - start < 300) {
        folio_outputs* o = NULL;
        if (folio_engine_step(g_engine, &o) != FOLIO_STATUS_OK) {
            fprintf(stderr, "step failed: %s\n", folio_last_error());
            break;
        }
        finished += collect(o, g_got);
        folio_outputs_destroy(o);
        steps++;
        if (atomic_load(&g_adders_done) < THREADS) sched_yield();
    }
    for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);

    EXPECT_TRUE(atomic_load(&g_add_failures) == 0);
    EXPECT_TRUE(finished == TOTAL);
    int wrong = 0, cancelled = 0, not_once = 0;
    for (int id = 0; id < TOTAL; id++) {
        int64_t k = g_spec_of_id[id];
        if (k < 0) { wrong++; continue; }
        const result* got = &g_got[id];
        const result* want = &g_ref[k];
        if (got->num_finished != 1) not_once++;
        int was_cancelled = g_specs[k].cancel && g_cancel_status[k] == FOLIO_STATUS_OK;
        if (g_specs[k].cancel && g_cancel_status[k] != FOLIO_STATUS_OK && g_cancel_status[k] != FOLIO_STATUS_NOT_FOUND) wrong++;
        if (was_cancelled) {
            cancelled++;
            /* Tokens before the cancel are a prefix of the reference; the end is ABORT. */
            if (got->finish_reason != FOLIO_FINISH_ABORT || got->num_tokens > want->num_tokens ||
                memcmp(got->tokens, want->tokens, sizeof(int32_t) * (size_t)got->num_tokens) != 0)
                wrong++;
        } else if (got->num_tokens != want->num_tokens || got->finish_reason != want->finish_reason ||
                   memcmp(got->tokens, want->tokens, sizeof(int32_t) * (size_t)got->num_tokens) != 0) {
            if (wrong < 5)
                fprintf(stderr, "request %d (spec %lld): %d tokens (reason %d), reference %d (reason %d)\n", id,
                        (long long)k, got->num_tokens, got->finish_reason, want->num_tokens, want->finish_reason);
            wrong++;
        }
    }
    EXPECT_TRUE(not_once == 0);
    EXPECT_TRUE(wrong == 0);
    EXPECT_TRUE(cancelled > 0);

    folio_stats stats;
    stats.struct_size = sizeof stats;
    EXPECT(folio_engine_get_stats(g_engine, &stats), FOLIO_STATUS_OK);
    EXPECT(folio_engine_has_unfinished(g_engine, &unfinished), FOLIO_STATUS_OK);
    EXPECT_TRUE(unfinished == 0);
    EXPECT_TRUE(stats.kv_blocks_used == 0 && stats.kv_blocks_free == stats.kv_blocks_total);
    EXPECT_TRUE(stats.num_preemptions > 0); /* the pool really was under pressure */
    printf("concurrency: %d requests, %d cancelled, %ld steps, %lld preemptions, %lld tokens, %lds\n", TOTAL,
           cancelled, steps, (long long)stats.num_preemptions, (long long)stats.num_generated_tokens,
           (long)(time(NULL) - start));
    folio_engine_destroy(g_engine);
    test_destroy_while_stepping();
    return check_report("concurrency");
}
