/* simple.c: the whole lifecycle of a Folio engine through the C ABI.
 *   simple [MODEL]   MODEL: a Hugging Face folder or "builtin:<name>"; default: the engine's default model
 *                    (builtin:tiny); "builtin:fake" runs the scheduler's deterministic fake model
 * Version check → create (with a log callback) → tokenize/detokenize (size query) → add requests →
 * step with a stream callback → cancel → stats → blocking batch generate → destroy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio.h"

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int32_t status_ = (call);                                                                  \
        if (status_ != FOLIO_STATUS_OK) {                                                          \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call,                    \
                    folio_status_name(status_), folio_last_error());                              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static void on_log(int32_t level, const char* message, uint64_t len, void* user_data) {
    (void)user_data;
    fprintf(stderr, "[folio %d] %.*s\n", level, (int)len, message);
}

/* Streamed outputs arrive here during folio_engine_step, before the step returns them. */
static void on_stream(const folio_request_output* out, void* user_data) {
    uint64_t* streamed_tokens = (uint64_t*)user_data;
    *streamed_tokens += out->num_tokens;
}

int main(int argc, char** argv) {
    const char* model = argc > 1 ? argv[1] : NULL;

    /* 1. The library must speak our major version. */
    uint32_t version = folio_abi_version();
    if (version >> 16 != FOLIO_ABI_VERSION_MAJOR) {
        fprintf(stderr, "libfolio ABI %u.%u, built for %d.x\n", version >> 16, version & 0xFFFF,
                FOLIO_ABI_VERSION_MAJOR);
        return 1;
    }
    printf("libfolio ABI %u.%u\n", version >> 16, version & 0xFFFF);

    /* 2. Create the engine: defaults first, then what we want to change. */
    folio_engine_params params;
    params.struct_size = sizeof params;
    CHECK(folio_engine_params_init(&params));
    params.model = model; /* NULL: the default model */
    params.model_len = model ? strlen(model) : 0;
    params.num_gpu_blocks = 256;
    params.log_level = FOLIO_LOG_INFO;
    params.log_callback = on_log;
    folio_engine* engine = NULL;
    CHECK(folio_engine_create(&params, &engine));

    /* 3. Tokenize with the size query idiom: ask for the count, then fill a buffer of that size. */
    const char* prompt = "abcdefgh";
    uint64_t count = 0;
    int32_t status = folio_engine_tokenize(engine, prompt, strlen(prompt), 1, NULL, 0, &count);
    if (status != FOLIO_STATUS_BUFFER_TOO_SMALL && status != FOLIO_STATUS_OK) CHECK(status);
    int32_t* ids = malloc(sizeof(int32_t) * (count ? count : 1));
    CHECK(folio_engine_tokenize(engine, prompt, strlen(prompt), 1, ids, count, &count));
    printf("'%s' -> %llu tokens:", prompt, (unsigned long long)count);
    for (uint64_t i = 0; i < count; i++) printf(" %d", ids[i]);
    printf("\n");

    uint64_t text_len = 0;
    status = folio_engine_detokenize(engine, ids, count, NULL, 0, &text_len);
    if (status != FOLIO_STATUS_BUFFER_TOO_SMALL) CHECK(status);
    char* text = malloc(text_len + 1);
    CHECK(folio_engine_detokenize(engine, ids, count, text, text_len + 1, &text_len));
    printf("tokens -> '%s'\n", text);

    /* 4. Queue requests: one from text, one from token ids, one we will cancel. */
    folio_sampling_params sampling;
    sampling.struct_size = sizeof sampling;
    CHECK(folio_sampling_params_init(&sampling));
    sampling.max_tokens = 8;
    sampling.temperature = 0.8f;
    sampling.has_seed = 1;
    sampling.seed = 42;
    uint64_t first = 0, second = 0, doomed = 0;
    CHECK(folio_engine_add_text(engine, prompt, strlen(prompt), &sampling, &first));
    CHECK(folio_engine_add_tokens(engine, ids, count, &sampling, &second));
    CHECK(folio_engine_add_text(engine, "hhgg", 4, &sampling, &doomed));

    /* 5. Step until everything finished; the stream callback sees every output first. */
    uint64_t streamed = 0, pulled = 0;
    CHECK(folio_engine_set_stream_callback(engine, on_stream, &streamed));
    int32_t unfinished = 1;
    for (int step = 0; unfinished; step++) {
        folio_outputs* outputs = NULL;
        CHECK(folio_engine_step(engine, &outputs));
        uint64_t n = 0;
        CHECK(folio_outputs_count(outputs, &n));
        for (uint64_t i = 0; i < n; i++) {
            folio_request_output out;
            out.struct_size = sizeof out;
            CHECK(folio_outputs_get(outputs, i, &out));
            pulled += out.num_tokens;
            if (out.request_finished)
                printf("request %llu finished (reason %d)\n", (unsigned long long)out.request_id,
                       out.finish_reason);
            else if (out.num_tokens > 0)
                printf("request %llu seq %d: +%llu token(s) '%s'\n", (unsigned long long)out.request_id,
                       out.seq_index, (unsigned long long)out.num_tokens, out.text);
        }
        folio_outputs_destroy(outputs);
        if (step == 1) CHECK(folio_engine_cancel(engine, doomed));
        CHECK(folio_engine_has_unfinished(engine, &unfinished));
    }
    CHECK(folio_engine_set_stream_callback(engine, NULL, NULL));
    printf("tokens pulled %llu, streamed %llu\n", (unsigned long long)pulled, (unsigned long long)streamed);

    /* 6. Stats: with every request done, every KV block is free again. */
    folio_stats stats;
    stats.struct_size = sizeof stats;
    CHECK(folio_engine_get_stats(engine, &stats));
    printf("steps %lld, blocks used %lld of %lld, prefix hit rate %.2f, generated %lld\n",
           (long long)stats.num_steps, (long long)stats.kv_blocks_used, (long long)stats.kv_blocks_total,
           stats.prefix_hit_rate, (long long)stats.num_generated_tokens);

    /* 7. Blocking batch generation: one output per prompt, in order. */
    const char* prompts[] = {"aabb", "ccddeeff"};
    uint64_t lens[] = {4, 8};
    sampling.temperature = 0.0f;
    folio_outputs* results = NULL;
    CHECK(folio_engine_generate(engine, prompts, lens, 2, &sampling, &results));
    uint64_t n = 0;
    CHECK(folio_outputs_count(results, &n));
    for (uint64_t i = 0; i < n; i++) {
        folio_request_output out;
        out.struct_size = sizeof out;
        CHECK(folio_outputs_get(results, i, &out));
        printf("generate[%llu]: '%s' (%llu tokens, reason %d)\n", (unsigned long long)i, out.text,
               (unsigned long long)out.num_tokens, out.finish_reason);
    }
    folio_outputs_destroy(results);

    /* 8. Tear down; destroy is NULL-safe and a second destroy is harmless. */
    folio_engine_destroy(engine);
    folio_engine_destroy(NULL);
    free(text);
    free(ids);
    return stats.kv_blocks_used == 0 ? 0 : 1;
}
