/* test_robustness_scheduler.c: bad input to the scheduler level of the ABI (KV managers, schedulers, step plans)
 * returns its documented status with a message, and the process keeps running; the engine level's bad input is
 * test_robustness.c's (also built with AddressSanitizer as test_robustness_scheduler_asan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine_fixture.h"
#include "folio.h"

static void test_scheduler_level(void) {
    folio_kv_manager_params kp;
    folio_kv_manager *kv = NULL, *kv2 = NULL;
    folio_step_plan* again = NULL;
    kp.struct_size = sizeof kp;
    folio_kv_manager_params_init(&kp);
    EXPECT(folio_kv_manager_create(&kp, &kv), FOLIO_STATUS_INVALID_ARGUMENT); /* num_gpu_blocks is required */
    kp.num_gpu_blocks = 8;
    kp.block_size_tokens = 0;
    EXPECT(folio_kv_manager_create(&kp, &kv), FOLIO_STATUS_INVALID_ARGUMENT);
    kp.block_size_tokens = 4;
    EXPECT(folio_kv_manager_create(&kp, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_kv_manager_create(&kp, &kv), FOLIO_STATUS_OK);
    folio_scheduler_params spp;
    folio_scheduler* s = NULL;
    spp.struct_size = sizeof spp;
    folio_scheduler_params_init(&spp);
    EXPECT(folio_scheduler_create(kv, &spp, &s), FOLIO_STATUS_INVALID_ARGUMENT); /* vocab_size is required */
    spp.vocab_size = 100;
    spp.eos_token_id = 100;
    EXPECT(folio_scheduler_create(kv, &spp, &s), FOLIO_STATUS_INVALID_ARGUMENT);
    spp.eos_token_id = -1;
    EXPECT(folio_scheduler_create(NULL, &spp, &s), FOLIO_STATUS_INVALID_HANDLE);
    EXPECT(folio_scheduler_create(kv, NULL, &s), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_create(kv, &spp, &s), FOLIO_STATUS_OK);
    folio_scheduler* second = NULL;
    EXPECT(folio_scheduler_create(kv, &spp, &second), FOLIO_STATUS_INVALID_STATE);

    folio_sampling_params sp = sampling();
    int32_t prompt[40] = {0};
    uint64_t id = 0;
    EXPECT(folio_scheduler_add_request(s, prompt, 40, &sp, &id), FOLIO_STATUS_REQUEST_REJECTED); /* 8 blocks x 4 */
    int32_t bad[2] = {5, 100};
    EXPECT(folio_scheduler_add_request(s, bad, 2, &sp, &id), FOLIO_STATUS_TOKEN_OUT_OF_RANGE);
    const char* stops[] = {"x"};
    uint64_t stop_lens[] = {1};
    sp.stop = stops;
    sp.stop_lens = stop_lens;
    sp.num_stop = 1;
    EXPECT(folio_scheduler_add_request(s, prompt, 3, &sp, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    sp = sampling();
    EXPECT(folio_scheduler_add_request(s, prompt, 3, &sp, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_add_request(s, prompt, 3, &sp, &id), FOLIO_STATUS_OK);

    /* NULL for every other pointer argument of the scheduler level. */
    EXPECT(folio_scheduler_add_request(s, NULL, 3, &sp, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_add_request(s, prompt, 3, NULL, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_has_unfinished(s, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_get_stats(s, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_kv_manager_get_stats(kv, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_kv_manager_create(NULL, &kv2), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_create(kv, &spp, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_schedule(NULL, &again), FOLIO_STATUS_INVALID_HANDLE);
    EXPECT(folio_step_plan_get(NULL, NULL), FOLIO_STATUS_INVALID_HANDLE);
    EXPECT(folio_outputs_count(NULL, NULL), FOLIO_STATUS_INVALID_HANDLE);
    EXPECT(folio_kv_manager_check(NULL), FOLIO_STATUS_INVALID_HANDLE);
    folio_step_plan* plan = NULL;
    EXPECT(folio_scheduler_schedule(s, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_schedule(s, &plan), FOLIO_STATUS_OK);
    EXPECT(folio_scheduler_schedule(s, &again), FOLIO_STATUS_INVALID_STATE);
    folio_step_plan_view view;
    EXPECT(folio_step_plan_get(plan, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    view.struct_size = 12;
    EXPECT(folio_step_plan_get(plan, &view), FOLIO_STATUS_STRUCT_SIZE);
    view.struct_size = sizeof view;
    EXPECT(folio_step_plan_get(plan, &view), FOLIO_STATUS_OK);
    EXPECT_TRUE(view.num_seqs == 1 && view.num_tokens == 3 && view.num_sampled == 1);
    folio_outputs* out = NULL;
    int32_t token = 7, oob = 100;
    EXPECT(folio_scheduler_update(s, plan, &token, NULL, 2, &out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_update(s, plan, NULL, NULL, 1, &out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_update(s, plan, &oob, NULL, 1, &out), FOLIO_STATUS_TOKEN_OUT_OF_RANGE);
    EXPECT(folio_scheduler_update(s, plan, &token, NULL, 1, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_scheduler_update(s, (folio_step_plan*)(void*)kv, &token, NULL, 1, &out), FOLIO_STATUS_INVALID_HANDLE);
    EXPECT(folio_scheduler_update(s, plan, &token, NULL, 1, &out), FOLIO_STATUS_OK);
    folio_outputs_destroy(out);
    EXPECT(folio_scheduler_update(s, plan, &token, NULL, 1, &out), FOLIO_STATUS_INVALID_STATE); /* stale plan */
    folio_step_plan_destroy(plan);
    EXPECT(folio_step_plan_get(plan, &view), FOLIO_STATUS_INVALID_HANDLE);
    /* Destroying the outstanding plan defers its release to its update. */
    EXPECT(folio_scheduler_schedule(s, &plan), FOLIO_STATUS_OK);
    folio_step_plan_destroy(plan);
    EXPECT(folio_step_plan_get(plan, &view), FOLIO_STATUS_OK);
    int32_t* more = calloc((size_t)view.num_sampled + 1, sizeof(int32_t));
    EXPECT(folio_scheduler_update(s, plan, more, NULL, (uint64_t)view.num_sampled, &out), FOLIO_STATUS_OK);
    free(more);
    folio_outputs_destroy(out);
    EXPECT(folio_step_plan_get(plan, &view), FOLIO_STATUS_INVALID_HANDLE); /* released by the update */
    folio_step_plan_destroy(plan);
    EXPECT(folio_scheduler_schedule(s, &plan), FOLIO_STATUS_OK);
    view.struct_size = sizeof view;
    EXPECT(folio_step_plan_get(plan, &view), FOLIO_STATUS_OK);
    more = calloc((size_t)view.num_sampled + 1, sizeof(int32_t));
    EXPECT(folio_scheduler_update(s, plan, more, NULL, (uint64_t)view.num_sampled, &out), FOLIO_STATUS_OK);
    free(more);
    folio_outputs_destroy(out);
    folio_step_plan_destroy(plan);
    EXPECT(folio_scheduler_cancel(s, id), FOLIO_STATUS_OK);
    EXPECT(folio_scheduler_cancel(s, id), FOLIO_STATUS_NOT_FOUND);
    EXPECT(folio_kv_manager_check(kv), FOLIO_STATUS_OK);
    folio_stats stats;
    stats.struct_size = sizeof stats;
    EXPECT(folio_kv_manager_get_stats(kv, &stats), FOLIO_STATUS_OK);
    EXPECT_TRUE(stats.kv_blocks_used == 0);
    folio_scheduler_destroy(s);
    folio_kv_manager_destroy(kv);
    EXPECT(folio_kv_manager_check(kv), FOLIO_STATUS_INVALID_HANDLE);
}

int main(void) {
    test_scheduler_level();
    return check_report("robustness scheduler level");
}
