/* toy_model.h: a stand-in for the host's own model, for the scheduler level (level 2) of folio.h.
 *
 * It keeps a paged "KV cache" of one 64-bit value per slot, exactly as a real model keeps K/V: the value of
 * position p mixes the token at p with the value of p - 1, which it reads back through the block table.
 * The "logits" of a row are its last value, and greedy sampling takes value % vocab. So the tokens a
 * request gets depend only on its history — unless the plan is wrong (a bad slot mapping, block table,
 * copy-on-write copy or swap), which changes the chain and so every later token: toy_expected_token
 * recomputes the chain without any paging, and tests compare. */
#ifndef TOY_MODEL_H
#define TOY_MODEL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio.h"

#define TOY_START 0x6A09E667F3BCC908ull

typedef struct toy_model {
    uint64_t* gpu; /* [num_gpu_blocks * block_size] */
    uint64_t* cpu; /* [num_cpu_blocks * block_size] swap space */
    int32_t block_size;
    int32_t vocab;
    int32_t eos;
} toy_model;

static inline uint64_t toy_mix(uint64_t prev, int32_t token, int32_t pos) {
    uint64_t x = prev ^ ((uint64_t)(uint32_t)token * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(uint32_t)pos << 29);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Sample i of a row whose last value is v (sample 0 for n = 1). */
static inline int32_t toy_sample(const toy_model* m, uint64_t v, int32_t i, int32_t suppress_stop) {
    int32_t token = (int32_t)((v + (uint64_t)i * 7919u) % (uint64_t)m->vocab);
    if (suppress_stop && token == m->eos) token = (token + 1) % m->vocab;
    return token;
}

/* What the next token after `tokens` (sample 0, greedy) must be, computed without paging. */
static inline int32_t toy_expected_token(const toy_model* m, const int32_t* tokens, int32_t count) {
    uint64_t v = TOY_START;
    for (int32_t p = 0; p < count; p++) v = toy_mix(v, tokens[p], p);
    return toy_sample(m, v, 0, 0);
}

static inline void toy_copy_blocks(uint64_t* dst_pool, const uint64_t* src_pool, const int32_t* pairs, int64_t n,
                                   int32_t bs) {
    for (int64_t i = 0; i < n; i++)
        memcpy(dst_pool + (int64_t)pairs[2 * i + 1] * bs, src_pool + (int64_t)pairs[2 * i] * bs,
               sizeof(uint64_t) * (size_t)bs);
}

/* Runs one plan; writes view->num_sampled tokens to `sampled`. */
static inline void toy_execute(toy_model* m, const folio_step_plan_view* v, int32_t* sampled) {
    int32_t bs = m->block_size;
    /* Order before the forward pass: swap-outs, swap-ins, copy-on-write copies. */
    toy_copy_blocks(m->cpu, m->gpu, v->swap_out, v->num_swap_out, bs);
    toy_copy_blocks(m->gpu, m->cpu, v->swap_in, v->num_swap_in, bs);
    toy_copy_blocks(m->gpu, m->gpu, v->block_copies, v->num_block_copies, bs);
    uint64_t* last = malloc(sizeof(uint64_t) * (size_t)(v->num_seqs ? v->num_seqs : 1));
    for (int64_t r = 0; r < v->num_seqs; r++) {
        const int32_t* table = v->block_tables + r * v->max_blocks_per_seq;
        uint64_t value = 0;
        for (int32_t t = v->query_start[r]; t < v->query_start[r + 1]; t++) {
            int32_t pos = v->positions[t];
            uint64_t prev = TOY_START;
            if (pos > 0) {
                int32_t p = pos - 1; /* read through the block table, like attention over the paged cache */
                prev = m->gpu[(int64_t)table[p / bs] * bs + p % bs];
            }
            value = toy_mix(prev, v->token_ids[t], pos);
            m->gpu[v->slot_mapping[t]] = value;
        }
        last[r] = value;
    }
    int64_t k = 0;
    for (int64_t l = 0; l < v->num_logits; l++)
        for (int32_t i = 0; i < v->num_samples[l]; i++)
            sampled[k++] = toy_sample(m, last[v->logits_seq_row[l]], i, v->suppress_stop[l]);
    free(last);
}

#endif
