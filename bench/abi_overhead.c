/* abi_overhead.c: what crossing the C ABI costs. Times (1) a trivial call (handle lookup + exception guard +
 * last-error reset), (2) folio_engine_add_tokens + folio_engine_cancel, (3) a full request lifecycle on the fake
 * model (add, steps, outputs) — each as calls per second on one host thread.
 *   cc -O2 -Inative/include bench/abi_overhead.c -Lartifacts/libfolio -lfolio -Wl,-rpath,$PWD/artifacts/libfolio */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "folio.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
    folio_engine_params p;
    folio_engine_params_init(&p);
    p.model = "builtin:fake";
    p.model_len = strlen(p.model);
    p.num_gpu_blocks = 4096;
    folio_engine* e = NULL;
    if (folio_engine_create(&p, &e) != FOLIO_STATUS_OK) return 1;
    int32_t vocab = 0;
    const int calls = 2000000;
    double t0 = now();
    for (int i = 0; i < calls; i++) folio_engine_get_vocab_size(e, &vocab);
    double trivial = (now() - t0) / calls;

    folio_sampling_params sp;
    folio_sampling_params_init(&sp);
    sp.max_tokens = 4;
    int32_t prompt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const int adds = 200000;
    t0 = now();
    for (int i = 0; i < adds; i++) {
        uint64_t id;
        folio_engine_add_tokens(e, prompt, 16, &sp, &id);
        folio_engine_cancel(e, id);
    }
    double add_cancel = (now() - t0) / adds;
    int32_t unfinished = 1;
    while (unfinished) { /* drain the cancelled requests' final outputs */
        folio_outputs* o;
        folio_engine_step(e, &o);
        folio_outputs_destroy(o);
        folio_engine_has_unfinished(e, &unfinished);
    }

    const int requests = 20000;
    t0 = now();
    for (int i = 0; i < requests; i++) {
        uint64_t id;
        folio_engine_add_tokens(e, prompt, 16, &sp, &id);
    }
    long steps = 0, outputs = 0;
    unfinished = 1;
    while (unfinished) {
        folio_outputs* o;
        uint64_t n = 0;
        folio_engine_step(e, &o);
        folio_outputs_count(o, &n);
        for (uint64_t k = 0; k < n; k++) {
            folio_request_output r;
            r.struct_size = sizeof r;
            folio_outputs_get(o, k, &r);
        }
        outputs += (long)n;
        folio_outputs_destroy(o);
        folio_engine_has_unfinished(e, &unfinished);
        steps++;
    }
    double lifecycle = now() - t0;
    printf("trivial call (folio_engine_get_vocab_size): %.0f ns\n", trivial * 1e9);
    printf("add_tokens + cancel: %.2f us per pair\n", add_cancel * 1e6);
    printf("%d requests (16-token prompt, 4 tokens each) through the fake model: %.3f s, %ld steps, %ld outputs, "
           "%.1f us per step, %.0f requests/s\n", requests, lifecycle, steps, outputs, lifecycle / steps * 1e6,
           requests / lifecycle);
    folio_engine_destroy(e);
    return 0;
}
