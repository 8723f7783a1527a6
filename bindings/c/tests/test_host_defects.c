/* test_host_defects.c: what a careless or hostile host found (issue 13), each checked by its exact outcome:
 * the _init functions and readers honour struct_size, destroy from a callback is refused, a rejected request
 * says why, one model-name rule, validation gaps closed, and priority / cache salt reach the engine. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "folio.h"

static folio_engine_params engine_params(const char* model, int32_t gpu_blocks) {
    folio_engine_params p;
    p.struct_size = sizeof p;
    folio_engine_params_init(&p);
    p.model = model;
    p.model_len = strlen(model);
    p.num_gpu_blocks = gpu_blocks;
    p.block_size_tokens = 4;
    return p;
}

static folio_engine* make_engine(int32_t gpu_blocks, int32_t policy, int32_t max_num_seqs) {
    folio_engine_params p = engine_params("builtin:fake", gpu_blocks);
    p.scheduling_policy = policy;
    p.max_num_seqs = max_num_seqs;
    folio_engine* e = NULL;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    return e;
}

static folio_sampling_params sampling(int32_t max_tokens) {
    folio_sampling_params sp;
    sp.struct_size = sizeof sp;
    folio_sampling_params_init(&sp);
    sp.max_tokens = max_tokens;
    sp.temperature = 0.0f;
    return sp;
}

/* struct_size between two released sizes, or 0, is no header's: refused, nothing written. */
static void test_struct_sizes(void) {
    folio_sampling_params sp;
    memset(&sp, 0x5A, sizeof sp);
    sp.struct_size = 108; /* between 1.0's 104 and 1.1's 112 */
    EXPECT(folio_sampling_params_init(&sp), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "104") != NULL && sp.n == 0x5A5A5A5A);
    sp.struct_size = 0;
    EXPECT(folio_sampling_params_init(&sp), FOLIO_STATUS_INVALID_ARGUMENT);
    sp.struct_size = 104; /* a 1.0 host: beam search and later fields keep the caller's bytes */
    EXPECT(folio_sampling_params_init(&sp), FOLIO_STATUS_OK);
    EXPECT_TRUE(sp.struct_size == 104 && sp.n == 1 && sp.beam_width == 0x5A5A5A5A);
    folio_engine* e = make_engine(64, FOLIO_SCHEDULING_FCFS, 256);
    uint64_t id = 0;
    sp.max_tokens = 2;
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_OK); /* garbage past 104 is not read */
    sp.struct_size = 108;
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_STRUCT_SIZE);
    folio_sampling_params ok = sampling(2);
    ok.reserved0 = 1;
    EXPECT(folio_engine_add_text(e, "aabb", 4, &ok, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    folio_engine_destroy(e);
}

static folio_engine* g_engine;
static int32_t g_destroy_error_seen;
static void destroy_from_callback(const folio_request_output* o, void* user) {
    (void)o;
    (void)user;
    folio_engine_destroy(g_engine);
    if (strstr(folio_last_error(), "callback") != NULL) g_destroy_error_seen++;
}

static void test_destroy_from_callback(void) {
    folio_engine* e = make_engine(64, FOLIO_SCHEDULING_FCFS, 256);
    g_engine = e;
    EXPECT(folio_engine_set_stream_callback(e, destroy_from_callback, NULL), FOLIO_STATUS_OK);
    folio_sampling_params sp = sampling(3);
    const char* prompts[] = {"aabb", "ccdd"};
    const uint64_t lens[] = {4, 4};
    folio_outputs* out = NULL;
    EXPECT(folio_engine_generate(e, prompts, lens, 2, &sp, &out), FOLIO_STATUS_OK);
    uint64_t count = 0;
    EXPECT(folio_outputs_count(out, &count), FOLIO_STATUS_OK);
    EXPECT_TRUE(count == 2);
    folio_outputs_destroy(out);
    EXPECT_TRUE(g_destroy_error_seen >= 2); /* every attempt was refused with a message */
    int32_t vocab = 0;
    EXPECT(folio_engine_get_vocab_size(e, &vocab), FOLIO_STATUS_OK); /* the engine is still alive */
    EXPECT_TRUE(vocab == 64);
    EXPECT(folio_engine_set_stream_callback(e, NULL, NULL), FOLIO_STATUS_OK);
    folio_engine_destroy(e); /* outside a callback: destroyed */
    EXPECT(folio_engine_get_vocab_size(e, &vocab), FOLIO_STATUS_INVALID_HANDLE);
}

/* 8 blocks of 4 tokens: prompt 4 + max_tokens 40 can never fit; the output says so. */
static void test_reject_reason(void) {
    folio_engine* e = make_engine(8, FOLIO_SCHEDULING_FCFS, 256);
    folio_sampling_params sp = sampling(40);
    uint64_t id = 0;
    EXPECT(folio_engine_add_text(e, "aabbccdd", 8, &sp, &id), FOLIO_STATUS_OK);
    folio_outputs* out = NULL;
    EXPECT(folio_engine_step(e, &out), FOLIO_STATUS_OK);
    uint64_t count = 0;
    folio_outputs_count(out, &count);
    EXPECT_TRUE(count == 1);
    folio_request_output o;
    o.struct_size = sizeof o;
    EXPECT(folio_outputs_get(out, 0, &o), FOLIO_STATUS_OK);
    EXPECT_TRUE(o.finish_reason == FOLIO_FINISH_REJECTED && o.request_finished == 1);
    EXPECT_TRUE(o.reject_reason != NULL && o.reject_reason_len == strlen(o.reject_reason));
    EXPECT_TRUE(o.reject_reason != NULL && strstr(o.reject_reason, "max_tokens (40)") != NULL &&
                strstr(o.reject_reason, "the GPU pool has 8") != NULL);
    folio_outputs_destroy(out);

    const char* prompts[] = {"aabb", "aabb"};
    const uint64_t lens[] = {4, 4};
    folio_sampling_params fits = sampling(2);
    EXPECT(folio_engine_generate(e, prompts, lens, 1, &fits, &out), FOLIO_STATUS_OK);
    EXPECT(folio_outputs_get(out, 0, &o), FOLIO_STATUS_OK);
    EXPECT_TRUE(o.finish_reason == FOLIO_FINISH_LENGTH && o.reject_reason != NULL && o.reject_reason_len == 0 &&
                o.reject_reason[0] == '\0');
    folio_outputs_destroy(out);
    EXPECT(folio_engine_generate(e, prompts, lens, 1, &sp, &out), FOLIO_STATUS_OK);
    EXPECT(folio_outputs_get(out, 0, &o), FOLIO_STATUS_OK);
    EXPECT_TRUE(o.finish_reason == FOLIO_FINISH_REJECTED && o.reject_reason_len > 0);
    folio_outputs_destroy(out);
    folio_engine_destroy(e);
}

/* Bare built-in names work as builtin:NAME does; a folder of that name wins. */
static void test_model_names(void) {
    folio_engine_params p = engine_params("fake", 16);
    folio_engine* e = NULL;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    int32_t vocab = 0;
    EXPECT(folio_engine_get_vocab_size(e, &vocab), FOLIO_STATUS_OK);
    EXPECT_TRUE(vocab == 64);
    folio_engine_destroy(e);
    p = engine_params("tiny", 16);
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    EXPECT(folio_engine_get_vocab_size(e, &vocab), FOLIO_STATUS_OK);
    EXPECT_TRUE(vocab == 50257);
    folio_engine_destroy(e);
    p = engine_params("no-such-model", 16);
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_MODEL_LOAD);
    EXPECT_TRUE(strstr(folio_last_error(), "tiny, b8, llama-1b, llama-8b, qwen3-0.6b, fake") != NULL);

    char dir[] = "/tmp/folio-names-XXXXXX";
    char cwd[4096];
    EXPECT_TRUE(mkdtemp(dir) != NULL && getcwd(cwd, sizeof cwd) != NULL && chdir(dir) == 0);
    EXPECT_TRUE(mkdir("fake", 0700) == 0);
    p = engine_params("fake", 16); /* now the (empty) folder ./fake: no config.json */
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_MODEL_LOAD);
    EXPECT_TRUE(strstr(folio_last_error(), "config.json") != NULL);
    p = engine_params("builtin:fake", 16); /* the prefix always means the built-in */
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    folio_engine_destroy(e);
    rmdir("fake");
    EXPECT_TRUE(chdir(cwd) == 0);
    rmdir(dir);
}

static void test_validation(void) {
    folio_engine* e = make_engine(64, FOLIO_SCHEDULING_FCFS, 256);
    folio_sampling_params sp = sampling(2);
    sp.top_k = -1;
    uint64_t id = 0;
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "top_k must be 0 (off) or positive, got -1") != NULL);
    uint64_t n = 0;
    EXPECT(folio_engine_tokenize(e, "aabb", 4, 2, NULL, 0, &n), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "add_special is 2") != NULL && strstr(folio_last_error(), "params->") == NULL);
    folio_engine_destroy(e);

    folio_engine_params p = engine_params("builtin:fake", 16);
    p.preemption_mode = FOLIO_PREEMPTION_SWAP;
    e = NULL;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(e == NULL && strstr(folio_last_error(), "num_cpu_blocks is 0") != NULL);
    p.num_cpu_blocks = 8;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    folio_engine_destroy(e);
    p.scheduling_policy = 2;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "scheduling_policy") != NULL);

    folio_kv_manager_params kp;
    kp.struct_size = sizeof kp;
    folio_kv_manager_params_init(&kp);
    kp.num_gpu_blocks = 16;
    folio_kv_manager* kv = NULL;
    EXPECT(folio_kv_manager_create(&kp, &kv), FOLIO_STATUS_OK);
    folio_scheduler_params sch;
    sch.struct_size = sizeof sch;
    folio_scheduler_params_init(&sch);
    sch.vocab_size = 100;
    sch.preemption_mode = FOLIO_PREEMPTION_SWAP;
    folio_scheduler* s = NULL;
    EXPECT(folio_scheduler_create(kv, &sch, &s), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(s == NULL && strstr(folio_last_error(), "num_cpu_blocks is 0") != NULL);
    folio_kv_manager_destroy(kv);
}

/* One sequence at a time, three requests queued before the first step: the priority policy runs the lowest
 * priority value first (FCFS would run them in id order). */
static void test_priority(void) {
    folio_engine* e = make_engine(64, FOLIO_SCHEDULING_PRIORITY, 1);
    const int32_t priorities[] = {5, 1, 3};
    for (int i = 0; i < 3; i++) {
        folio_sampling_params sp = sampling(2);
        sp.priority = priorities[i];
        uint64_t id = 0;
        EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_OK);
    }
    uint64_t order[3];
    int finished = 0;
    for (int step = 0; step < 30 && finished < 3; step++) {
        folio_outputs* out = NULL;
        EXPECT(folio_engine_step(e, &out), FOLIO_STATUS_OK);
        uint64_t count = 0;
        folio_outputs_count(out, &count);
        for (uint64_t i = 0; i < count; i++) {
            folio_request_output o;
            o.struct_size = sizeof o;
            folio_outputs_get(out, i, &o);
            if (o.request_finished) order[finished++] = o.request_id;
        }
        folio_outputs_destroy(out);
    }
    EXPECT_TRUE(finished == 3 && order[0] == 1 && order[1] == 2 && order[2] == 0);
    folio_engine_destroy(e);
}

static double hit_rate_after(folio_engine* e, const char* salt) {
    folio_sampling_params sp = sampling(1);
    sp.cache_salt = salt;
    sp.cache_salt_len = salt ? strlen(salt) : 0;
    const char* prompts[] = {"aabbccddeeffgghhaabbccddeeffgghh"}; /* 16 tokens: 4 full blocks */
    const uint64_t lens[] = {32};
    folio_outputs* out = NULL;
    EXPECT(folio_engine_generate(e, prompts, lens, 1, &sp, &out), FOLIO_STATUS_OK);
    folio_outputs_destroy(out);
    folio_stats stats;
    stats.struct_size = sizeof stats;
    EXPECT(folio_engine_get_stats(e, &stats), FOLIO_STATUS_OK);
    return stats.prefix_hit_rate;
}

/* Requests share cached prefix blocks only with requests of the same salt. */
static void test_cache_salt(void) {
    folio_engine* e = make_engine(64, FOLIO_SCHEDULING_FCFS, 256);
    EXPECT_TRUE(hit_rate_after(e, "alice") == 0.0);
    EXPECT_TRUE(hit_rate_after(e, "bob") == 0.0);  /* same prompt, another salt: no hit */
    EXPECT_TRUE(hit_rate_after(e, NULL) == 0.0);   /* no salt is a salt of its own */
    EXPECT_TRUE(hit_rate_after(e, "alice") > 0.0); /* the first one's blocks */
    folio_engine_destroy(e);
}

int main(void) {
    test_struct_sizes();
    test_destroy_from_callback();
    test_reject_reason();
    test_model_names();
    test_validation();
    test_priority();
    test_cache_salt();
    return check_report("host defects");
}
