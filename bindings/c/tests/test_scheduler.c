/* test_scheduler.c: the scheduler level under pressure. A host runs toy_model.h over every plan; the tokens it
 * gets back must be exactly what the unpaged chain predicts (so slot mapping, block tables, copy-on-write copies
 * and swaps were all right), for recompute and swap preemption, with cancellations and n = 2 requests; the KV
 * manager's invariants hold after every step and every block is free at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../examples/toy_model.h"
#include "check.h"
#include "folio.h"

#define REQUESTS 600
#define MAX_PROMPT 30
#define MAX_TOKENS 12
#define VOCAB 500
#define BLOCKS 48
#define BS 4

typedef struct {
    int32_t tokens[MAX_PROMPT + MAX_TOKENS]; /* prompt, then what sequence 0 generated */
    int32_t prompt_len;
    int32_t num_generated;
    int32_t n;
    int32_t num_finished;
    int32_t finish_reason;
    int32_t cancelled;
} req;

static void run(int32_t preemption_mode) {
    static req reqs[REQUESTS];
    memset(reqs, 0, sizeof reqs);
    folio_kv_manager_params kp;
    kp.struct_size = sizeof kp;
    folio_kv_manager_params_init(&kp);
    kp.num_gpu_blocks = BLOCKS;
    kp.block_size_tokens = BS;
    kp.num_cpu_blocks = preemption_mode == FOLIO_PREEMPTION_SWAP ? 64 : 0;
    folio_kv_manager* kv = NULL;
    EXPECT(folio_kv_manager_create(&kp, &kv), FOLIO_STATUS_OK);
    folio_scheduler_params sp;
    sp.struct_size = sizeof sp;
    folio_scheduler_params_init(&sp);
    sp.vocab_size = VOCAB;
    sp.eos_token_id = 3;
    sp.max_num_seqs = 16;
    sp.max_num_batched_tokens = 48;
    sp.preemption_mode = preemption_mode;
    folio_scheduler* s = NULL;
    EXPECT(folio_scheduler_create(kv, &sp, &s), FOLIO_STATUS_OK);
    toy_model model = {calloc(BLOCKS * BS, 8), calloc(64 * BS, 8), BS, VOCAB, 3};

    srand(7 + (unsigned)preemption_mode);
    int added = 0, finished = 0, steps = 0, copies = 0, swaps = 0, bad_plans = 0, wrong = 0;
    while ((added < REQUESTS || finished < added) && steps < 100000) {
        /* Requests arrive a few per step; prompts share prefixes to exercise the prefix cache and forks. */
        for (int a = 0; a < 3 && added < REQUESTS; a++) {
            req* r = &reqs[added];
            r->prompt_len = 1 + rand() % MAX_PROMPT;
            for (int j = 0; j < r->prompt_len; j++) r->tokens[j] = j < 8 && added % 2 ? j + 10 : rand() % VOCAB;
            r->n = added % 7 == 0 ? 2 : 1;
            folio_sampling_params p;
            p.struct_size = sizeof p;
            folio_sampling_params_init(&p);
            p.max_tokens = 1 + rand() % MAX_TOKENS;
            p.n = r->n;
            uint64_t id = 0;
            EXPECT(folio_scheduler_add_request(s, r->tokens, (uint64_t)r->prompt_len, &p, &id), FOLIO_STATUS_OK);
            EXPECT_TRUE(id == (uint64_t)added);
            added++;
        }
        if (steps % 5 == 0 && added > 2) { /* cancel a random earlier request (it may have finished) */
            int victim = rand() % added;
            int32_t status = folio_scheduler_cancel(s, (uint64_t)victim);
            EXPECT_TRUE(status == FOLIO_STATUS_OK || status == FOLIO_STATUS_NOT_FOUND);
            if (status == FOLIO_STATUS_OK) reqs[victim].cancelled = 1;
        }
        folio_step_plan* plan = NULL;
        EXPECT(folio_scheduler_schedule(s, &plan), FOLIO_STATUS_OK);
        folio_step_plan_view v;
        v.struct_size = sizeof v;
        EXPECT(folio_step_plan_get(plan, &v), FOLIO_STATUS_OK);
        /* The plan is coherent: slots agree with the block tables, positions are contiguous per row. */
        for (int64_t row = 0; row < v.num_seqs; row++) {
            const int32_t* table = v.block_tables + row * v.max_blocks_per_seq;
            for (int32_t t = v.query_start[row]; t < v.query_start[row + 1]; t++) {
                int32_t pos = v.positions[t];
                if (v.slot_mapping[t] != table[pos / BS] * BS + pos % BS) bad_plans++;
                if (v.slot_mapping_i64[t] != (int64_t)v.slot_mapping[t]) bad_plans++;
                if (t > v.query_start[row] && pos != v.positions[t - 1] + 1) bad_plans++;
            }
            if (v.context_lens[row] != v.positions[v.query_start[row + 1] - 1] + 1) bad_plans++;
        }
        copies += (int)v.num_block_copies;
        swaps += (int)(v.num_swap_in + v.num_swap_out);
        int32_t* sampled = malloc(sizeof(int32_t) * (size_t)(v.num_sampled + 1));
        toy_execute(&model, &v, sampled);
        folio_outputs* outs = NULL;
        EXPECT(folio_scheduler_update(s, plan, sampled, NULL, (uint64_t)v.num_sampled, &outs), FOLIO_STATUS_OK);
        free(sampled);
        folio_step_plan_destroy(plan);
        uint64_t n = 0;
        folio_outputs_count(outs, &n);
        for (uint64_t i = 0; i < n; i++) {
            folio_request_output o;
            o.struct_size = sizeof o;
            EXPECT(folio_outputs_get(outs, i, &o), FOLIO_STATUS_OK);
            req* r = &reqs[o.request_id];
            if (o.request_finished) {
                r->num_finished++;
                r->finish_reason = o.finish_reason;
                finished++;
            } else if (o.seq_index == 0 && o.num_tokens == 1) {
                /* Sequence 0 samples stream 0: its token is what the unpaged chain predicts. */
                int32_t len = r->prompt_len + r->num_generated;
                if (o.token_ids[0] != toy_expected_token(&model, r->tokens, len)) wrong++;
                r->tokens[len] = o.token_ids[0];
                r->num_generated++;
            }
        }
        folio_outputs_destroy(outs);
        EXPECT(folio_kv_manager_check(kv), FOLIO_STATUS_OK);
        steps++;
    }
    int not_once = 0;
    for (int i = 0; i < REQUESTS; i++) {
        if (reqs[i].num_finished != 1) not_once++;
        if (reqs[i].cancelled && reqs[i].finish_reason != FOLIO_FINISH_ABORT && reqs[i].num_finished == 1) {
            /* cancel returned OK, so the end must be ABORT */
            not_once++;
        }
    }
    EXPECT_TRUE(finished == REQUESTS && not_once == 0);
    EXPECT_TRUE(bad_plans == 0);
    EXPECT_TRUE(wrong == 0);
    folio_stats stats;
    stats.struct_size = sizeof stats;
    EXPECT(folio_scheduler_get_stats(s, &stats), FOLIO_STATUS_OK);
    EXPECT_TRUE(stats.kv_blocks_used == 0 && stats.cpu_blocks_used == 0);
    EXPECT_TRUE(stats.num_preemptions > 0);
    if (preemption_mode == FOLIO_PREEMPTION_SWAP) EXPECT_TRUE(swaps > 0);
    printf("%s: %d steps, %lld preemptions, %d copies, %d swapped blocks, prefix hit rate %.3f\n",
           preemption_mode == FOLIO_PREEMPTION_SWAP ? "swap" : "recompute", steps, (long long)stats.num_preemptions,
           copies, swaps, stats.prefix_hit_rate);
    folio_scheduler_destroy(s);
    folio_kv_manager_destroy(kv);
    free(model.gpu);
    free(model.cpu);
}

int main(void) {
    run(FOLIO_PREEMPTION_RECOMPUTE);
    run(FOLIO_PREEMPTION_SWAP);
    return check_report("scheduler");
}
