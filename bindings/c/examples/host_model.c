/* host_model.c: the scheduler level of folio.h, for a host that runs its own model.
 * Folio decides what runs (continuous batching, paged KV blocks, prefix caching, preemption); the host runs
 * its model over the plan's flat arrays and hands back the sampled tokens. The "model" here is toy_model.h. */
#include <stdio.h>
#include <stdlib.h>

#include "folio.h"
#include "toy_model.h"

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int32_t status_ = (call);                                                                  \
        if (status_ != FOLIO_STATUS_OK) {                                                          \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call,                    \
                    folio_status_name(status_), folio_last_error());                              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

int main(void) {
    /* The KV manager sizes the pools; the host allocates its cache to match. */
    folio_kv_manager_params kv_params;
    kv_params.struct_size = sizeof kv_params;
    CHECK(folio_kv_manager_params_init(&kv_params));
    kv_params.num_gpu_blocks = 32;
    kv_params.block_size_tokens = 4;
    kv_params.num_cpu_blocks = 32;
    folio_kv_manager* kv = NULL;
    CHECK(folio_kv_manager_create(&kv_params, &kv));

    folio_scheduler_params sched_params;
    sched_params.struct_size = sizeof sched_params;
    CHECK(folio_scheduler_params_init(&sched_params));
    sched_params.vocab_size = 1000;
    sched_params.max_num_batched_tokens = 16;
    folio_scheduler* scheduler = NULL;
    CHECK(folio_scheduler_create(kv, &sched_params, &scheduler));

    toy_model model = {calloc(32 * 4, 8), calloc(32 * 4, 8), 4, 1000, -1};

    /* Two requests with a shared 8-token prefix (prefix caching), one of them with n = 2. */
    int32_t prompt_a[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    int32_t prompt_b[] = {1, 2, 3, 4, 5, 6, 7, 8, 42};
    folio_sampling_params sp;
    sp.struct_size = sizeof sp;
    CHECK(folio_sampling_params_init(&sp));
    sp.max_tokens = 6;
    uint64_t a = 0, b = 0;
    CHECK(folio_scheduler_add_request(scheduler, prompt_a, 10, &sp, &a));
    sp.n = 2;
    CHECK(folio_scheduler_add_request(scheduler, prompt_b, 9, &sp, &b));

    int32_t unfinished = 1;
    while (unfinished) {
        folio_step_plan* plan = NULL;
        CHECK(folio_scheduler_schedule(scheduler, &plan));
        folio_step_plan_view view;
        view.struct_size = sizeof view;
        CHECK(folio_step_plan_get(plan, &view));
        printf("step %llu: %lld seqs, %lld tokens, %lld samples, %lld copies, %lld swaps\n",
               (unsigned long long)view.step_id, (long long)view.num_seqs, (long long)view.num_tokens,
               (long long)view.num_sampled, (long long)view.num_block_copies,
               (long long)(view.num_swap_in + view.num_swap_out));

        int32_t* sampled = malloc(sizeof(int32_t) * (size_t)(view.num_sampled ? view.num_sampled : 1));
        toy_execute(&model, &view, sampled);

        folio_outputs* outputs = NULL;
        CHECK(folio_scheduler_update(scheduler, plan, sampled, NULL, (uint64_t)view.num_sampled, &outputs));
        folio_step_plan_destroy(plan);
        free(sampled);
        uint64_t n = 0;
        CHECK(folio_outputs_count(outputs, &n));
        for (uint64_t i = 0; i < n; i++) {
            folio_request_output out;
            out.struct_size = sizeof out;
            CHECK(folio_outputs_get(outputs, i, &out));
            if (out.request_finished)
                printf("  request %llu done (reason %d)\n", (unsigned long long)out.request_id, out.finish_reason);
            else
                printf("  request %llu seq %d: token %d\n", (unsigned long long)out.request_id, out.seq_index,
                       out.token_ids[0]);
        }
        folio_outputs_destroy(outputs);
        CHECK(folio_scheduler_has_unfinished(scheduler, &unfinished));
    }

    folio_stats stats;
    stats.struct_size = sizeof stats;
    CHECK(folio_scheduler_get_stats(scheduler, &stats));
    printf("prefix hit rate %.2f, blocks used %lld\n", stats.prefix_hit_rate, (long long)stats.kv_blocks_used);
    CHECK(folio_kv_manager_check(kv));
    folio_scheduler_destroy(scheduler);
    folio_kv_manager_destroy(kv);
    free(model.gpu);
    free(model.cpu);
    return stats.kv_blocks_used == 0 ? 0 : 1;
}
