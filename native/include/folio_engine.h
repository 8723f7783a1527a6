/*
 * folio_engine.h — part of folio.h: level 1, the engine: its structs (engine and sampling params, request outputs),
 * their params_init calls, the engine's calls and the output list.
 *
 * Include folio.h, not this file: folio.h holds the overview, the conventions every declaration here follows,
 * FOLIO_API and the version macros, and includes its parts in order (folio_common.h, folio_engine.h,
 * folio_scheduler.h). The parts together are the specification; the drift tests read them through folio.h.
 */
#ifndef FOLIO_ENGINE_H
#define FOLIO_ENGINE_H

#ifndef FOLIO_H
#error "include folio.h, not folio_engine.h"
#endif

/* ---------------------------------------------------------------------------------------------------------
 * Structs. struct_size first; fields are only ever appended.
 * ------------------------------------------------------------------------------------------------------- */

/* How to create an engine. Defaults from folio_engine_params_init. */
typedef struct folio_engine_params {
    uint32_t struct_size;           /* sizeof(folio_engine_params) */
    int32_t device;                 /* FOLIO_DEVICE_CPU (default) */
    const char* model;              /* UTF-8, one rule in every host (folio CLI --model, Python folio.LLM):
                                       "builtin:NAME" is the built-in model NAME; else an existing folder of
                                       that name is a Hugging Face model folder (a folder wins over a built-in
                                       name); else a bare built-in name. Built-ins: "tiny" (the default, when
                                       NULL or empty), "b8", "llama-1b", "llama-8b", "qwen3-0.6b" (seeded random weights,
                                       GPT-2 vocabulary), "fake" (the scheduler's deterministic fake model:
                                       vocabulary of 64 two-letter pieces "aa".."hh", no EOS) */
    uint64_t model_len;             /* bytes of `model` */
    int32_t block_size_tokens;      /* tokens per KV block, 1..1024; default 16 */
    int32_t num_gpu_blocks;         /* KV blocks on the device; 0 = derive from kv_memory_bytes */
    uint64_t kv_memory_bytes;       /* KV cache budget when num_gpu_blocks is 0; 0 = 256 MiB (CPU), or on CUDA
                                       what gpu_memory_utilization leaves after the weights and the activations of
                                       the largest step max_num_batched_tokens and max_num_seqs allow (that step is
                                       run once at create, to measure them) */
    int32_t num_cpu_blocks;         /* swap space in blocks; 0 = no swapping (default) */
    int32_t max_num_seqs;           /* running sequences per step; default 256 */
    int32_t max_num_batched_tokens; /* token budget per step; default 2048 */
    int32_t enable_prefix_caching;  /* 0 or 1; default 1 */
    int32_t preemption_mode;        /* FOLIO_PREEMPTION_*; default RECOMPUTE */
    int32_t log_level;              /* least severe level delivered to log_callback; default FOLIO_LOG_WARN */
    folio_log_fn log_callback;      /* NULL = no log output */
    void* log_user_data;            /* passed to log_callback */
    int32_t num_threads;            /* CPU compute threads; 0 = all cores */
    uint64_t seed;                  /* seed of a built-in model's weights and of requests without has_seed
                                       (as folio generate --seed does for both) */
    /* ABI 1.2 */
    int32_t scheduling_policy;      /* FOLIO_SCHEDULING_*; default FCFS */
    int32_t reserved0;              /* ignored: the tail padding of the 1.2 struct, which a 1.2 host may not
                                       have cleared, so no 1.3 field may live in it */
    /* ABI 1.3 */
    int32_t quantization;           /* FOLIO_QUANTIZATION_*; default NONE */
    int32_t reserved1;              /* ignored: the tail padding of the 1.3 struct (as reserved0) */
    /* ABI 1.4 */
    int32_t dtype;                  /* FOLIO_DTYPE_*; default AUTO */
    float gpu_memory_utilization;   /* FOLIO_DEVICE_CUDA: the share of the device's memory the engine may fill
                                       (weights, activations, KV cache), in (0, 1]; 0 = 0.9 (vLLM's default).
                                       Weights beyond it are refused at create (FOLIO_STATUS_MODEL_LOAD); with
                                       num_gpu_blocks and kv_memory_bytes 0 it also sizes the KV cache */
    /* ABI 1.5 */
    int32_t kv_cache_dtype;         /* FOLIO_KV_CACHE_DTYPE_*; default AUTO (fp32). With num_gpu_blocks 0, BF16 fits
                                       twice the blocks in kv_memory_bytes */
    int32_t reserved2;              /* ignored: the tail padding of the 1.5 struct (as reserved0) */
} folio_engine_params;

/* Sampling controls of one request (vLLM's SamplingParams). Defaults from folio_sampling_params_init. */
typedef struct folio_sampling_params {
    uint32_t struct_size;            /* sizeof(folio_sampling_params) */
    int32_t n;                       /* sequences per request, >= 1; default 1 */
    int32_t max_tokens;              /* tokens to generate per sequence, >= 1; default 16 */
    int32_t min_tokens;              /* EOS and stop ids suppressed before this many, 0..max_tokens */
    float temperature;               /* >= 0; 0 = greedy; default 1 */
    float top_p;                     /* in (0, 1]; default 1 */
    int32_t top_k;                   /* 0 = off (default), else >= 1; negative values are INVALID_ARGUMENT */
    float min_p;                     /* in [0, 1]; default 0 */
    float presence_penalty;          /* in [-2, 2]; default 0 */
    float frequency_penalty;         /* in [-2, 2]; default 0 */
    float repetition_penalty;        /* > 0; default 1 */
    int32_t has_seed;                /* 1: use `seed` (reproducible whatever the batch) */
    uint64_t seed;
    int32_t ignore_eos;              /* 0 or 1. With 0, every EOS id of the model's generation_config.json
                                        ends a sequence (the ids after the first act as stop_token_ids, as in
                                        transformers' generate); 1 ignores all of them */
    int32_t logprobs;                /* top log-probabilities reported per token, 0..20; -1 = none (default) */
    const int32_t* stop_token_ids;   /* [num_stop_token_ids]; may be NULL when the count is 0 */
    uint64_t num_stop_token_ids;
    const char* const* stop;         /* [num_stop] UTF-8 stop strings; NULL when the count is 0 */
    const uint64_t* stop_lens;       /* [num_stop] byte lengths */
    uint64_t num_stop;
    int32_t beam_width;              /* 0 = off (default); > 0: beam search with this many beams (n must be 1,
                                        no stop strings, engine level only); the finished beams, best first, are
                                        reported as the request's sequences when it ends */
    float length_penalty;            /* beam score = cumulative logprob / length^length_penalty; default 1 */
    /* ABI 1.2 */
    int32_t priority;                /* with FOLIO_SCHEDULING_PRIORITY: lower runs first (vLLM's priority);
                                        any int32; default 0; ignored by FCFS */
    int32_t reserved0;               /* must be 0 */
    const char* cache_salt;          /* UTF-8: requests share prefix-cache blocks only with requests of the same
                                        salt (vLLM's cache_salt); NULL or length 0 = no salt (default) */
    uint64_t cache_salt_len;         /* bytes of cache_salt */
    /* ABI 1.3: token constraints. A bad schema, regex or grammar (an unsupported JSON Schema keyword is named
       with its JSON path) or an id outside the vocabulary is INVALID_ARGUMENT at add, with the reason in
       folio_last_error; the engine keeps serving. */
    int32_t structured_output_kind;  /* FOLIO_STRUCTURED_*; default NONE */
    int32_t reserved1;               /* must be 0 */
    const char* structured_output;   /* UTF-8 schema / regex / grammar (JSON, REGEX, GRAMMAR) */
    uint64_t structured_output_len;  /* bytes of structured_output */
    const char* const* choices;      /* [num_choices] UTF-8 strings (CHOICE); NULL when the count is 0 */
    const uint64_t* choice_lens;     /* [num_choices] byte lengths */
    uint64_t num_choices;
    const int32_t* logit_bias_token_ids; /* [num_logit_bias]: added to these tokens' logits (OpenAI's logit_bias) */
    const float* logit_bias_values;  /* [num_logit_bias], each in [-100, 100] */
    uint64_t num_logit_bias;
    const int32_t* allowed_token_ids; /* [num_allowed_token_ids]: only these may be sampled; count 0 = any */
    uint64_t num_allowed_token_ids;
    const char* const* bad_words;    /* [num_bad_words] UTF-8 words never generated (vLLM's bad_words: each as
                                        written and after a space) */
    const uint64_t* bad_word_lens;   /* [num_bad_words] byte lengths */
    uint64_t num_bad_words;
} folio_sampling_params;

/* One output of one sequence of a request. Pointers stay valid while the folio_outputs that holds it lives
 * (for the stream callback: during the call). */
typedef struct folio_request_output {
    uint32_t struct_size;            /* set by the caller of folio_outputs_get */
    int32_t finish_reason;           /* FOLIO_FINISH_*; NONE while the sequence runs */
    uint64_t request_id;
    int32_t seq_index;               /* which of the request's n sequences, 0..n-1; -1 on the request's end */
    int32_t request_finished;        /* 1 on the request's last output, exactly once per request. That output
                                        has seq_index -1 and no tokens; its finish_reason is ABORT or REJECTED,
                                        else the reason of the request's sequence 0 */
    const int32_t* token_ids;        /* new tokens (step, stream) or all generated tokens (generate, update) */
    uint64_t num_tokens;
    double cumulative_logprob;       /* sum of the log-probabilities of all generated tokens so far */
    int32_t num_top_logprobs;        /* k: the request's `logprobs` (0 when it was -1) */
    int32_t reserved0;
    const int32_t* top_token_ids;    /* [num_tokens * k], most likely first; NULL when k is 0 */
    const float* top_logprobs;       /* [num_tokens * k] */
    const char* text;                /* UTF-8, NUL-terminated, never a split code point: the text these tokens
                                        add (step: a request with stop strings holds back its last characters
                                        until no stop string can match them, so the pieces of a sequence always
                                        concatenate to its final text, a matched stop string excluded);
                                        generate: the whole output text. "" without a tokenizer */
    uint64_t text_len;               /* bytes, without the NUL */
    uint64_t num_prompt_tokens;
    /* ABI 1.2 */
    const char* reject_reason;       /* UTF-8, NUL-terminated: why the request was refused, on a
                                        FOLIO_FINISH_REJECTED output; "" on every other output */
    uint64_t reject_reason_len;      /* bytes, without the NUL */
} folio_request_output;


/* Fill a params struct with its defaults. Set params->struct_size = sizeof(*params) first: only the fields
 * within it are written (a host built against an older header gets that header's struct) and struct_size
 * is kept. INVALID_ARGUMENT for NULL or a struct_size no released header had (see Conventions). */
FOLIO_API int32_t folio_engine_params_init(folio_engine_params* params);
FOLIO_API int32_t folio_sampling_params_init(folio_sampling_params* params);

/* ---------------------------------------------------------------------------------------------------------
 * Level 1: the engine.
 * ------------------------------------------------------------------------------------------------------- */

/* Load the model and size the KV cache. MODEL_LOAD names the missing or bad file and field;
 * INVALID_ARGUMENT names the bad params field; UNSUPPORTED for a device this build lacks. */
FOLIO_API int32_t folio_engine_create(const folio_engine_params* params, folio_engine** out_engine);
/* Called from the engine's own stream or log callback: refused (nothing happens; folio_last_error says
 * INVALID_STATE), see Thread safety. */
FOLIO_API void folio_engine_destroy(folio_engine* engine);

/* Vocabulary size and end-of-sequence token of the loaded model. */
FOLIO_API int32_t folio_engine_get_vocab_size(folio_engine* engine, int32_t* out_vocab_size);
FOLIO_API int32_t folio_engine_get_eos_token_id(folio_engine* engine, int32_t* out_eos_token_id);

/* Fill params with the loaded model's request defaults: folio_sampling_params_init's values with the
 * temperature, top_p, top_k, min_p, repetition_penalty and max_new_tokens (as max_tokens) of its
 * generation_config.json in their place (what vLLM applies to requests without sampling params). Honours
 * params->struct_size as folio_sampling_params_init does. */
FOLIO_API int32_t folio_engine_sampling_params_init(folio_engine* engine, folio_sampling_params* params);

/* Text → token ids (size query: out_count receives the number of ids). add_special: 0 or 1, adds the
 * special tokens Hugging Face's add_special_tokens adds: those of tokenizer.json's post_processor
 * (TemplateProcessing, BertProcessing, RobertaProcessing; Llama-3.x's <|begin_of_text|>) and the BOS that
 * tokenizer_config.json's add_bos_token asks for when the post-processor did not put it first (Llama-2
 * style files); GPT-2 and Qwen files define none. folio_engine_add_text and folio_engine_generate's texts
 * are tokenized with add_special 1. Special tokens written in the text (e.g. <|im_start|>) are found either way.
 * A model folder without tokenizer.json returns UNSUPPORTED (use token ids). */
FOLIO_API int32_t folio_engine_tokenize(folio_engine* engine, const char* text, uint64_t text_len,
                                        int32_t add_special, int32_t* out_ids, uint64_t capacity,
                                        uint64_t* out_count);

/* Token ids → UTF-8 text (size query on bytes; the NUL is written too, so capacity must exceed out_len). */
FOLIO_API int32_t folio_engine_detokenize(folio_engine* engine, const int32_t* ids, uint64_t num_ids,
                                          char* out_text, uint64_t capacity, uint64_t* out_len);

/* Render a conversation into prompt text with the model's chat template (ABI 1.3): chat_template.jinja beside
 * tokenizer_config.json, else its chat_template (a string, or the named list form); Jinja as Hugging Face
 * transformers renders it (docs/CHAT_TEMPLATES.md). All three inputs are JSON (UTF-8, explicit length):
 *   messages_json: a list of messages, e.g. [{"role": "user", "content": "Hi"}];
 *   tools_json:    a list of tool definitions, or NULL for none;
 *   options_json:  an object, or NULL: "add_generation_prompt" (default false, as transformers'
 *                  apply_chat_template), "documents" (a list), "template" (a name of a named template list);
 *                  every other key becomes a template variable (e.g. "enable_thinking": false).
 * The template also sees the model's bos_token, eos_token, unk_token and pad_token. Output: size query on
 * bytes as folio_engine_detokenize (the NUL is written too, so capacity must exceed out_len). A template
 * usually writes the BOS itself: tokenize its text with add_special 0 (folio_engine_tokenize, then
 * folio_engine_add_tokens), as vLLM does for chats; folio_engine_add_text adds special tokens and may double it.
 * UNSUPPORTED when the model has no chat template (built-in models, folders without one); INVALID_ARGUMENT
 * for malformed JSON, a wrong JSON type, or a template that fails on this input (its raise_exception, or an
 * unsupported construct: the message gives line:column). */
FOLIO_API int32_t folio_engine_apply_chat_template(folio_engine* engine, const char* messages_json,
                                                   uint64_t messages_len, const char* tools_json,
                                                   uint64_t tools_len, const char* options_json,
                                                   uint64_t options_len, char* out_text, uint64_t capacity,
                                                   uint64_t* out_len);

/* Queue a request; its id (unique in this engine, counting from 0) goes to out_request_id.
 * A request that can never be served is accepted here and ends in the next step with one output:
 * FOLIO_FINISH_REJECTED, request_finished = 1, and its reject_reason. It can never be served when its
 * worst case cannot fit the whole KV cache: the prompt plus max_tokens for each of its sequences (n, or
 * beam_width) needs more blocks than num_gpu_blocks, since no preemption could ever make room (vLLM
 * likewise refuses a request whose prompt + max_tokens exceeds the model's length up front, rather than
 * truncate it); also an empty prompt, more sequences than max_num_seqs. A request that fits is never
 * rejected: under memory pressure it is preempted and resumed. */
FOLIO_API int32_t folio_engine_add_text(folio_engine* engine, const char* prompt, uint64_t prompt_len,
                                        const folio_sampling_params* params, uint64_t* out_request_id);
FOLIO_API int32_t folio_engine_add_tokens(folio_engine* engine, const int32_t* prompt_ids, uint64_t num_ids,
                                          const folio_sampling_params* params, uint64_t* out_request_id);

/* Cancel a request: its blocks are freed at once and its last output (FOLIO_FINISH_ABORT,
 * request_finished = 1) comes from the next step. NOT_FOUND when the id is unknown or already finished. */
FOLIO_API int32_t folio_engine_cancel(folio_engine* engine, uint64_t request_id);

/* Run one iteration (schedule, forward pass, sample) and return the incremental outputs it produced: one per
 * sequence that gained tokens or finished. *out_outputs is never NULL on success (it may hold 0 outputs);
 * release it with folio_outputs_destroy. The stream callback, if set, sees each output first. */
FOLIO_API int32_t folio_engine_step(folio_engine* engine, folio_outputs** out_outputs);

/* 1 when a request is waiting, running or has an output to deliver, else 0. */
FOLIO_API int32_t folio_engine_has_unfinished(folio_engine* engine, int32_t* out_has_unfinished);

/* Receive every streamed output during folio_engine_step; NULL removes the callback. */
FOLIO_API int32_t folio_engine_set_stream_callback(folio_engine* engine, folio_stream_fn callback,
                                                   void* user_data);

/* Blocking batch generation: runs the prompts (with whatever else is queued) to completion and returns one
 * output per (prompt, sequence) with all generated tokens and text, in prompt order then seq_index order;
 * request_finished is 1 on each request's last sequence. Outputs that the steps meanwhile produce for other
 * requests reach only the stream callback: do not mix this call with folio_engine_step on one engine. */
FOLIO_API int32_t folio_engine_generate(folio_engine* engine, const char* const* prompts,
                                        const uint64_t* prompt_lens, uint64_t num_prompts,
                                        const folio_sampling_params* params, folio_outputs** out_outputs);

FOLIO_API int32_t folio_engine_get_stats(folio_engine* engine, folio_stats* out_stats);

/* ---------------------------------------------------------------------------------------------------------
 * Outputs.
 * ------------------------------------------------------------------------------------------------------- */

FOLIO_API int32_t folio_outputs_count(const folio_outputs* outputs, uint64_t* out_count);
/* Copy output `index` (< count) into *out (whose struct_size the caller sets); its pointers live as long
 * as `outputs`. */
FOLIO_API int32_t folio_outputs_get(const folio_outputs* outputs, uint64_t index, folio_request_output* out);
FOLIO_API void folio_outputs_destroy(folio_outputs* outputs);

#endif /* FOLIO_ENGINE_H */
