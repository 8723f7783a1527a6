/*
 * folio_scheduler.h — part of folio.h: level 2, the KV cache manager and the scheduler for hosts that run their own
 * model: their structs (params, the step plan view), params_init calls and calls.
 *
 * Include folio.h, not this file: folio.h holds the overview, the conventions every declaration here follows,
 * FOLIO_API and the version macros, and includes its parts in order (folio_common.h, folio_engine.h,
 * folio_scheduler.h). The parts together are the specification; the drift tests read them through folio.h.
 */
#ifndef FOLIO_SCHEDULER_H
#define FOLIO_SCHEDULER_H

#ifndef FOLIO_H
#error "include folio.h, not folio_scheduler.h"
#endif

/* ---------------------------------------------------------------------------------------------------------
 * Structs. struct_size first; fields are only ever appended.
 * ------------------------------------------------------------------------------------------------------- */

/* How to create a KV cache manager (level 2). */
typedef struct folio_kv_manager_params {
    uint32_t struct_size;
    int32_t num_gpu_blocks;          /* > 0, required */
    int32_t block_size_tokens;       /* 1..1024; default 16 */
    int32_t num_cpu_blocks;          /* swap space; 0 = none */
    int32_t enable_prefix_caching;   /* 0 or 1; default 1 */
} folio_kv_manager_params;

/* How to create a scheduler (level 2). */
typedef struct folio_scheduler_params {
    uint32_t struct_size;
    int32_t max_num_seqs;            /* default 256 */
    int32_t max_num_batched_tokens;  /* default 2048 */
    int32_t preemption_mode;         /* FOLIO_PREEMPTION_*; default RECOMPUTE */
    int32_t vocab_size;              /* token ids must be < vocab_size; > 0, required */
    int32_t eos_token_id;            /* -1 = none */
    /* ABI 1.2 */
    int32_t scheduling_policy;       /* FOLIO_SCHEDULING_*; default FCFS */
} folio_scheduler_params;

/* A step plan as flat arrays (level 2). Row-major; every pointer is valid while the plan lives, and is
 * non-NULL even when its count is 0. "Rows" are the sequences of this step, in batch order. */
typedef struct folio_step_plan_view {
    uint32_t struct_size;            /* set by the caller of folio_step_plan_get */
    int32_t block_size_tokens;
    uint64_t step_id;                /* increases by one per schedule */
    int64_t num_seqs;                /* rows */
    const int64_t* seq_ids;          /* [num_seqs] stable id of each sequence */
    const int64_t* request_ids;      /* [num_seqs] the request each sequence belongs to */
    const int32_t* query_start;      /* [num_seqs + 1] row r computes tokens query_start[r] .. query_start[r+1] */
    const int32_t* context_lens;     /* [num_seqs] tokens in the KV cache after this step (attention length) */
    int64_t num_tokens;              /* tokens computed this step, all rows */
    const int32_t* token_ids;        /* [num_tokens] */
    const int32_t* positions;        /* [num_tokens] */
    const int32_t* slot_mapping;     /* [num_tokens] where each token's K/V goes: block * block_size + offset */
    int32_t max_blocks_per_seq;      /* width of block_tables */
    int32_t reserved0;
    const int32_t* block_tables;     /* [num_seqs * max_blocks_per_seq] physical ids, padded with -1 */
    int64_t num_logits;              /* rows whose last token's logits are sampled this step */
    const int32_t* logits_token_index; /* [num_logits] index into token_ids of the position to compute logits at */
    const int32_t* logits_seq_row;   /* [num_logits] the row (sequence) of each logits entry */
    const int32_t* num_samples;      /* [num_logits] tokens to sample from it: 1, or n when an n-sample prompt
                                        completes (sample i from the request's stream i) */
    const int32_t* suppress_stop;    /* [num_logits] 1 while min_tokens is unmet: EOS and stop ids must not be
                                        sampled */
    int64_t num_sampled;             /* sum of num_samples: what folio_scheduler_update expects */
    int64_t num_block_copies;        /* copy-on-write, before the forward pass */
    const int32_t* block_copies;     /* [num_block_copies * 2] (src, dst) GPU block ids */
    int64_t num_swap_in;
    const int32_t* swap_in;          /* [num_swap_in * 2] (CPU src, GPU dst), before the forward pass */
    int64_t num_swap_out;
    const int32_t* swap_out;         /* [num_swap_out * 2] (GPU src, CPU dst), before the forward pass */
    /* 1.2 */
    const int64_t* slot_mapping_i64; /* [num_tokens] slot_mapping as int64, the type folio_cuda.h's kernels take
                                        (pass it to folio_kv_write as is); the int32 slot_mapping stays for
                                        hosts built against 1.0/1.1 */
} folio_step_plan_view;

/* Fill a params struct with its defaults: as folio_engine_params_init (folio_engine.h) says. */
FOLIO_API int32_t folio_kv_manager_params_init(folio_kv_manager_params* params);
FOLIO_API int32_t folio_scheduler_params_init(folio_scheduler_params* params);

/* ---------------------------------------------------------------------------------------------------------
 * Level 2: the KV cache manager and the scheduler, for hosts that run their own model.
 *
 * A step's rows may read K/V that other rows of the same step write: a prompt's full blocks are offered to the
 * prefix cache when it is scheduled, so requests admitted behind it in that step hit them. The host therefore
 * writes every row's K/V of a layer (slot_mapping) before any row of that layer attends, as a batched forward
 * pass does.
 * ------------------------------------------------------------------------------------------------------- */

FOLIO_API int32_t folio_kv_manager_create(const folio_kv_manager_params* params,
                                          folio_kv_manager** out_kv);
FOLIO_API void folio_kv_manager_destroy(folio_kv_manager* kv);
FOLIO_API int32_t folio_kv_manager_get_stats(folio_kv_manager* kv, folio_stats* out_stats);
/* Verify the manager's invariants (reference counts, free list, cached hashes); INTERNAL with the broken
 * invariant in the message when one fails. */
FOLIO_API int32_t folio_kv_manager_check(folio_kv_manager* kv);

/* A scheduler over `kv`. The scheduler keeps the manager alive; `kv` may be destroyed first, and must not
 * be given to a second scheduler (INVALID_STATE). */
FOLIO_API int32_t folio_scheduler_create(folio_kv_manager* kv, const folio_scheduler_params* params,
                                         folio_scheduler** out_scheduler);
FOLIO_API void folio_scheduler_destroy(folio_scheduler* scheduler);

/* Queue a request of token ids (its id counts from 0). Only n, max_tokens, min_tokens, ignore_eos,
 * stop_token_ids, priority and cache_salt of `params` matter here (the host samples); stop strings need a
 * tokenizer and return INVALID_ARGUMENT. A request that can never be served (folio_engine_add_text's rule)
 * returns REQUEST_REJECTED with the reason in the message. */
FOLIO_API int32_t folio_scheduler_add_request(folio_scheduler* scheduler, const int32_t* prompt_ids,
                                              uint64_t num_ids, const folio_sampling_params* params,
                                              uint64_t* out_request_id);
/* Cancel a request. Its last output (FOLIO_FINISH_ABORT) comes with the next folio_scheduler_update; while
 * a plan is outstanding the request stays in it and is cancelled when the plan is updated. NOT_FOUND when
 * the id is unknown or already finished. */
FOLIO_API int32_t folio_scheduler_cancel(folio_scheduler* scheduler, uint64_t request_id);
FOLIO_API int32_t folio_scheduler_has_unfinished(folio_scheduler* scheduler, int32_t* out_has_unfinished);

/* Plan the next step. Exactly one plan is outstanding: schedule again only after folio_scheduler_update
 * (INVALID_STATE otherwise). Release the plan with folio_step_plan_destroy at any time: destroying the
 * outstanding plan keeps it valid for its folio_scheduler_update, which then releases it. */
FOLIO_API int32_t folio_scheduler_schedule(folio_scheduler* scheduler, folio_step_plan** out_plan);
FOLIO_API int32_t folio_step_plan_get(const folio_step_plan* plan, folio_step_plan_view* out_view);
FOLIO_API void folio_step_plan_destroy(folio_step_plan* plan);

/* Hand back the tokens sampled for `plan`: num_samples[i] ids for logits entry i, in entry order
 * (num_sampled == the view's num_sampled; ids must be < vocab_size), with their log-probabilities (or NULL). Returns the outputs of this step (new tokens and
 * finished sequences), like folio_engine_step. */
FOLIO_API int32_t folio_scheduler_update(folio_scheduler* scheduler, const folio_step_plan* plan,
                                         const int32_t* sampled_ids, const float* sampled_logprobs,
                                         uint64_t num_sampled, folio_outputs** out_outputs);
FOLIO_API int32_t folio_scheduler_get_stats(folio_scheduler* scheduler, folio_stats* out_stats);

#endif /* FOLIO_SCHEDULER_H */
