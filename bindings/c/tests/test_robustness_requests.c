/* test_robustness_requests.c: absurd sampling parameters and re-entrant calls from a stream callback return their
 * documented status with a message, and the engine keeps serving (also built with AddressSanitizer as
 * test_robustness_requests_asan). The rest of the engine level's bad input is test_robustness.c's. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine_fixture.h"
#include "folio.h"

static void test_absurd_sampling(void) {
    folio_engine* e = make_engine();
    uint64_t id = 0;
    folio_sampling_params sp;
#define BAD_SAMPLING(field, value)                                                      \
    sp = sampling();                                                                    \
    sp.field = value;                                                                   \
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_INVALID_ARGUMENT);
    BAD_SAMPLING(max_tokens, -1);
    BAD_SAMPLING(max_tokens, 0);
    BAD_SAMPLING(n, 0);
    BAD_SAMPLING(n, -3);
    BAD_SAMPLING(top_p, 2.0f);
    BAD_SAMPLING(top_p, 0.0f);
    BAD_SAMPLING(top_p, NAN);
    BAD_SAMPLING(temperature, -1.0f);
    BAD_SAMPLING(min_p, 1.5f);
    BAD_SAMPLING(top_k, -7);
    BAD_SAMPLING(repetition_penalty, 0.0f);
    BAD_SAMPLING(presence_penalty, 3.0f);
    BAD_SAMPLING(logprobs, 99);
    BAD_SAMPLING(logprobs, -2);
    BAD_SAMPLING(min_tokens, 100);
    BAD_SAMPLING(has_seed, 2);
    BAD_SAMPLING(ignore_eos, -1);
    BAD_SAMPLING(num_stop_token_ids, 3); /* with stop_token_ids NULL */
    BAD_SAMPLING(num_stop, 1);           /* with stop NULL */
    BAD_SAMPLING(beam_width, -1);
    BAD_SAMPLING(length_penalty, INFINITY);
#undef BAD_SAMPLING
    const char* stops[] = {"ab", NULL};
    uint64_t stop_lens[] = {2, 2};
    sp = sampling();
    sp.stop = stops;
    sp.stop_lens = stop_lens;
    sp.num_stop = 2;
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_INVALID_ARGUMENT); /* stop[1] NULL */
    stops[1] = "\xc3\x28";
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_INVALID_UTF8);
    stops[1] = "cd";
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_OK);
    /* A request that can never fit (64 blocks of 4 tokens) is accepted, then ends REJECTED in the next step. */
    sp = sampling();
    sp.max_tokens = 100000;
    uint64_t huge = 0;
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &huge), FOLIO_STATUS_OK);
    folio_outputs* out = NULL;
    EXPECT(folio_engine_step(e, &out), FOLIO_STATUS_OK);
    uint64_t n = 0;
    int rejected = 0;
    folio_outputs_count(out, &n);
    for (uint64_t i = 0; i < n; i++) {
        folio_request_output ro;
        ro.struct_size = sizeof ro;
        EXPECT(folio_outputs_get(out, i, &ro), FOLIO_STATUS_OK);
        if (ro.request_id == huge && ro.request_finished && ro.finish_reason == FOLIO_FINISH_REJECTED) rejected++;
    }
    EXPECT_TRUE(rejected == 1);
    folio_outputs_destroy(out);
    folio_engine_destroy(e);
}

static folio_engine* g_reentrant_engine;
static int32_t g_reentrant_status = 1;
static void reentrant_stream(const folio_request_output* o, void* user) {
    (void)o;
    (void)user;
    folio_outputs* out = NULL;
    g_reentrant_status = folio_engine_step(g_reentrant_engine, &out);
}

static void test_reentrancy(void) {
    folio_engine* e = make_engine();
    g_reentrant_engine = e;
    folio_sampling_params sp = sampling();
    uint64_t id = 0;
    EXPECT(folio_engine_set_stream_callback(e, reentrant_stream, NULL), FOLIO_STATUS_OK);
    EXPECT(folio_engine_add_text(e, "aabb", 4, &sp, &id), FOLIO_STATUS_OK);
    folio_outputs* out = NULL;
    EXPECT(folio_engine_step(e, &out), FOLIO_STATUS_OK);
    EXPECT_TRUE(g_reentrant_status == FOLIO_STATUS_INVALID_STATE);
    folio_outputs_destroy(out);
    folio_engine_destroy(e);
}

int main(void) {
    test_absurd_sampling();
    test_reentrancy();
    folio_engine* e = make_engine();   /* and a fresh engine still serves */
    folio_engine_destroy(e);
    return check_report("robustness requests");
}
