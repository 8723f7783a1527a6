/*
 * folio.h — the stable C ABI of Folio, an embeddable LLM serving engine with a paged KV cache.
 *
 * This header is the specification. libfolio.so (managed/Folio.Interop, published with NativeAOT) implements
 * it; the Python package (bindings/python/folio/_lib.py) and the C# exports mirror it, and a test
 * (bindings/python/tests/test_abi_drift.py) fails when any of them drift from this file.
 *
 * A host includes this file only. Its declarations are in three parts it includes, by level:
 * folio_common.h (constants, handles, callbacks, stats, library calls), folio_engine.h (level 1) and
 * folio_scheduler.h (level 2); this file keeps the overview, the conventions and the version macros.
 *
 * Two levels:
 *   1. The engine (folio_engine_*): load a model, tokenize, add requests, step (pull) or stream (push
 *      callback) incremental outputs, cancel, generate a batch (blocking), read stats.
 *   2. The KV cache manager and scheduler on their own (folio_kv_manager_*, folio_scheduler_*), for hosts that
 *      run their own model: folio_scheduler_schedule returns the step plan as flat arrays (sequence ids, token
 *      ids, positions, block tables, slot mapping, block copies, swap pairs, logits rows); the host runs its
 *      model and hands the sampled tokens back with folio_scheduler_update.
 *
 * Conventions
 *   - Names: folio_<object>_<verb>. Objects are opaque handles made by folio_<object>_create (or returned by a
 *     call) and released by folio_<object>_destroy, which accepts NULL and stale handles and does nothing.
 *   - Handles are checked on every call: a destroyed handle, a handle of another type or any other pointer
 *     value that this library did not hand out returns FOLIO_STATUS_INVALID_HANDLE; it never crashes.
 *   - Every fallible call returns an int32_t status: FOLIO_STATUS_OK (0) or a negative FOLIO_STATUS_* below.
 *     Results go through out-parameters, which are written only when the call returns FOLIO_STATUS_OK (except
 *     the required size of FOLIO_STATUS_BUFFER_TOO_SMALL).
 *   - folio_last_error() returns the message of the last failed call on the calling thread (thread-local,
 *     never NULL, "" when the last call succeeded). It stays valid until the next folio_ call on that thread.
 *   - Structs start with uint32_t struct_size, which the caller always sets to sizeof(the struct) of the
 *     header it was compiled with, before any call (the _init functions included); fields are only ever
 *     appended (each growth is a minor version). The library reads and writes at most struct_size bytes:
 *       - a struct_size of this struct in any released header (1.0 onwards; tests/abi-history keeps them)
 *         is accepted: an older host's missing fields take their defaults on input and are not written
 *         on output;
 *       - a larger one (a newer header) is accepted when every byte past the fields this library knows is
 *         zero (FOLIO_STATUS_STRUCT_SIZE otherwise: a newer field this library cannot honour); out-structs
 *         get that tail zeroed;
 *       - any other size (0, below ABI 1.0's struct, between two released sizes, above
 *         FOLIO_MAX_STRUCT_SIZE) returns FOLIO_STATUS_STRUCT_SIZE (FOLIO_STATUS_INVALID_ARGUMENT from an
 *         _init function) and writes nothing.
 *     Params structs get their defaults from folio_<struct>_init. Out-structs (outputs, plan views, stats)
 *     are only written. A struct the library hands to a callback carries the library's struct_size: read a
 *     field only when struct_size covers it.
 *   - Fixed-width types only: no C bool (flags are int32_t 0/1), no enum-typed fields (enum constants are
 *     passed as int32_t).
 *   - Strings are UTF-8 with an explicit byte length (no NUL terminator needed); invalid UTF-8 returns
 *     FOLIO_STATUS_INVALID_UTF8. Strings this library returns are UTF-8, NUL-terminated, and their length
 *     (without the NUL) is given too.
 *   - Variable-length outputs use the size query idiom: pass the capacity of your buffer; when it is too
 *     small (including 0 with a NULL buffer) the call writes the required count to its out-parameter and
 *     returns FOLIO_STATUS_BUFFER_TOO_SMALL.
 *   - No exception, C++ or managed, ever crosses this boundary, and the library never exits the process.
 *
 * Thread safety
 *   Every function may be called from any thread, and every object synchronizes its own calls: steps of one
 *   engine run one at a time; folio_engine_add_text, folio_engine_add_tokens and folio_engine_cancel may be
 *   called from many threads while another thread is inside folio_engine_step (they wait for the step in
 *   progress and take effect at the next step); tokenize, detokenize and the vocabulary getters run in
 *   parallel with anything. A KV manager and its scheduler share one lock (level 2 is one host loop).
 *   Calls on different objects never wait for each other. folio_last_error is per thread. Output and plan
 *   objects are immutable once returned and may be read from any thread.
 *   Callbacks run on the thread of the call that produced them: the log callback during folio_engine_create,
 *   add and step calls; the stream callback inside folio_engine_step / folio_engine_generate, while that step
 *   holds the engine's step lock. A callback may call folio_last_error and folio_status_name and read its
 *   arguments; calling into the same engine from a callback returns FOLIO_STATUS_INVALID_STATE.
 *   Destroying an object while another thread is inside a call on it is safe: folio_engine_destroy waits for a
 *   step in flight, a call that already started either completes or returns FOLIO_STATUS_INVALID_HANDLE, and
 *   later calls return FOLIO_STATUS_INVALID_HANDLE. folio_engine_destroy from a callback of that engine
 *   does nothing but set folio_last_error (INVALID_STATE, as other re-entrant calls): the step that runs the
 *   callback still needs the engine; destroy it after the step returns.
 *
 * Versioning
 *   FOLIO_ABI_VERSION is major.minor (major << 16 | minor). The soname carries the major version
 *   (libfolio.so.1). A minor release only appends functions, struct fields and constants; a host checks
 *   folio_abi_version() >> 16 == FOLIO_ABI_VERSION_MAJOR at start-up.
 */
#ifndef FOLIO_H
#define FOLIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define FOLIO_API __declspec(dllimport)
#else
#define FOLIO_API __attribute__((visibility("default")))
#endif

#define FOLIO_ABI_VERSION_MAJOR 1
#define FOLIO_ABI_VERSION_MINOR 4
#define FOLIO_ABI_VERSION ((FOLIO_ABI_VERSION_MAJOR << 16) | FOLIO_ABI_VERSION_MINOR)

/* The largest struct_size any call accepts: guards against garbage sizes. */
#define FOLIO_MAX_STRUCT_SIZE 4096


/* The declarations, by level (each part says what it holds; they are one specification, in this order). */
/*
 * folio_common.h — part of folio.h: what both levels share: constants (status codes and the other enums), the
 * opaque handles, the callbacks, the stats struct and the library calls (version, last error, status names).
 *
 * Include folio.h, not this file: folio.h holds the overview, the conventions every declaration here follows,
 * FOLIO_API and the version macros, and includes its parts in order (folio_common.h, folio_engine.h,
 * folio_scheduler.h). The parts together are the specification; the drift tests read them through folio.h.
 */
#ifndef FOLIO_COMMON_H
#define FOLIO_COMMON_H

#ifndef FOLIO_H
#error "include folio.h, not folio_common.h"
#endif

/* ---------------------------------------------------------------------------------------------------------
 * Constants. Fields and arguments that take these are int32_t.
 * ------------------------------------------------------------------------------------------------------- */

/* How the CPU backend stores MatMul weights (folio_engine_params.quantization). ABI 1.3. */
enum folio_quantization {
    FOLIO_QUANTIZATION_NONE = 0,    /* the checkpoint's precision: fp32, or bf16/fp16 kept 16-bit (default) */
    FOLIO_QUANTIZATION_INT8 = 1,    /* group-wise symmetric int8 at load: 32 weights per fp16 scale */
    FOLIO_QUANTIZATION_INT4 = 2     /* ABI 1.4: group-wise symmetric 4-bit at load (llama.cpp's Q4_0 rule): 32 weights
                                       per fp16 scale */
};

/* Status codes: 0 is success, every error is negative. */
enum folio_status {
    FOLIO_STATUS_OK = 0,
    FOLIO_STATUS_INVALID_ARGUMENT = -1,   /* a NULL pointer, a value out of its range; the message names it */
    FOLIO_STATUS_INVALID_HANDLE = -2,     /* NULL, destroyed, of another type, or never handed out */
    FOLIO_STATUS_STRUCT_SIZE = -3,        /* struct_size of no released header, too large with a non-zero
                                             tail, or absurd (see Conventions) */
    FOLIO_STATUS_INVALID_UTF8 = -4,       /* a string argument is not valid UTF-8; the message gives the byte */
    FOLIO_STATUS_TOKEN_OUT_OF_RANGE = -5, /* a token id < 0 or >= the vocabulary size */
    FOLIO_STATUS_BUFFER_TOO_SMALL = -6,   /* size query: the required count was written to the out-parameter */
    FOLIO_STATUS_NOT_FOUND = -7,          /* an unknown (or already finished) request id */
    FOLIO_STATUS_MODEL_LOAD = -8,         /* the model folder is missing, unreadable or corrupt */
    FOLIO_STATUS_REQUEST_REJECTED = -9,   /* level 2: a request that can never be served (the rule: see
                                             folio_engine_add_text); the message gives the reason */
    FOLIO_STATUS_INVALID_STATE = -10,     /* a call out of order (stale plan, re-entrant call from a callback) */
    FOLIO_STATUS_UNSUPPORTED = -11,       /* a feature this build or device does not have (e.g. the CUDA device) */
    FOLIO_STATUS_INTERNAL = -100          /* a bug in Folio: the message has the details; please report it */
};

/* Why a sequence finished (folio_request_output.finish_reason). */
enum folio_finish_reason {
    FOLIO_FINISH_NONE = 0,     /* still running */
    FOLIO_FINISH_STOP = 1,     /* EOS, a stop token id or a stop string */
    FOLIO_FINISH_LENGTH = 2,   /* max_tokens reached (or the model's context length) */
    FOLIO_FINISH_ABORT = 3,    /* cancelled by folio_engine_cancel / folio_scheduler_cancel */
    FOLIO_FINISH_REJECTED = 4  /* refused: the request can never be served (see folio_engine_add_text);
                                  the output's reject_reason says why */
};

enum folio_log_level {
    FOLIO_LOG_TRACE = 0,
    FOLIO_LOG_DEBUG = 1,
    FOLIO_LOG_INFO = 2,
    FOLIO_LOG_WARN = 3,
    FOLIO_LOG_ERROR = 4,
    FOLIO_LOG_NONE = 5
};

enum folio_device {
    FOLIO_DEVICE_CPU = 0,
    FOLIO_DEVICE_CUDA = 1   /* the current CUDA device, through libfolio_cuda.so beside libfolio.so (or at the
                               path in FOLIO_CUDA_LIB); FOLIO_STATUS_MODEL_LOAD names why when there is none */
};

/* What the model computes in on the GPU (folio_engine_params.dtype). ABI 1.4. The CPU backend computes in fp32
 * and takes only AUTO. */
enum folio_dtype {
    FOLIO_DTYPE_AUTO = 0,       /* fp16 checkpoints in fp16; bf16 and fp32 checkpoints in bf16 (default) */
    FOLIO_DTYPE_FLOAT32 = 1,    /* fp32 weights and activations, no TF32: the exact mode (parity tests) */
    FOLIO_DTYPE_BFLOAT16 = 2,
    FOLIO_DTYPE_FLOAT16 = 3
};

enum folio_preemption_mode {
    FOLIO_PREEMPTION_RECOMPUTE = 0, /* free the victim's blocks and recompute it later (default) */
    FOLIO_PREEMPTION_SWAP = 1       /* move the victim's blocks to the CPU swap pool (needs num_cpu_blocks
                                       > 0: creating an engine or scheduler without any is INVALID_ARGUMENT) */
};

/* Which waiting request runs first, and which running one is preempted (vLLM's scheduling_policy). ABI 1.2. */
enum folio_scheduling_policy {
    FOLIO_SCHEDULING_FCFS = 0,      /* arrival order; the newest is preempted first (default) */
    FOLIO_SCHEDULING_PRIORITY = 1   /* lower folio_sampling_params.priority first, then arrival; the highest
                                       value (then the newest) is preempted first */
};

/* What folio_sampling_params.structured_output holds (vLLM's structured_outputs). ABI 1.3. The output is
 * enforced token by token (tokens that could not continue it are masked before sampling); the sequence ends
 * with FOLIO_FINISH_STOP once it is complete and nothing may follow, or FOLIO_FINISH_LENGTH when max_tokens cuts
 * it first. Needs a model with a tokenizer; beam search refuses it. */
enum folio_structured_output {
    FOLIO_STRUCTURED_NONE = 0,         /* off (default) */
    FOLIO_STRUCTURED_JSON = 1,         /* structured_output is a JSON Schema: the output is JSON valid under it */
    FOLIO_STRUCTURED_REGEX = 2,        /* structured_output is a regular expression the whole output matches */
    FOLIO_STRUCTURED_CHOICE = 3,       /* the output is exactly one of choices[0 .. num_choices) */
    FOLIO_STRUCTURED_GRAMMAR = 4,      /* structured_output is a grammar in llama.cpp's GBNF (start rule root) */
    FOLIO_STRUCTURED_JSON_OBJECT = 5   /* any JSON object; structured_output is not read */
};

/* ---------------------------------------------------------------------------------------------------------
 * Opaque handles.
 * ------------------------------------------------------------------------------------------------------- */

typedef struct folio_engine folio_engine;         /* level 1: a model with its KV cache and scheduler */
typedef struct folio_kv_manager folio_kv_manager; /* level 2: the paged KV cache manager */
typedef struct folio_scheduler folio_scheduler;   /* level 2: the scheduler over a KV manager */
typedef struct folio_step_plan folio_step_plan;   /* level 2: one step's plan, immutable */
typedef struct folio_outputs folio_outputs;       /* a list of request outputs, immutable */

/* ---------------------------------------------------------------------------------------------------------
 * Callbacks.
 * ------------------------------------------------------------------------------------------------------- */

/* A log message (UTF-8, `len` bytes, also NUL-terminated), valid during the call only. */
typedef void (*folio_log_fn)(int32_t level, const char* message, uint64_t len, void* user_data);

struct folio_request_output;
/* One streamed output (new tokens of one sequence); valid during the call only. */
typedef void (*folio_stream_fn)(const struct folio_request_output* output, void* user_data);

/* ---------------------------------------------------------------------------------------------------------
 * Structs. struct_size first; fields are only ever appended.
 * ------------------------------------------------------------------------------------------------------- */

/* Counters of an engine or scheduler (all since creation). */
typedef struct folio_stats {
    uint32_t struct_size;            /* set by the caller */
    int32_t block_size_tokens;
    int64_t kv_blocks_total;
    int64_t kv_blocks_used;
    int64_t kv_blocks_free;
    int64_t kv_blocks_cached;        /* free or used blocks that hold a prefix-cache entry */
    int64_t kv_blocks_shared;        /* blocks with reference count > 1 */
    int64_t cpu_blocks_used;         /* swap space in use */
    double kv_utilization_pct;       /* used / total * 100 */
    double prefix_hit_rate;          /* prompt tokens served from the cache / prompt tokens queried, 0..1 */
    int64_t num_preemptions;
    int64_t num_running;
    int64_t num_waiting;
    int64_t num_swapped;
    int64_t num_steps;
    int64_t num_prompt_tokens;       /* prompt tokens of the requests added */
    int64_t num_generated_tokens;
    double generated_tokens_per_s;   /* generated tokens / seconds spent inside step (0 at level 2) */
} folio_stats;

/* ---------------------------------------------------------------------------------------------------------
 * Library.
 * ------------------------------------------------------------------------------------------------------- */

/* FOLIO_ABI_VERSION of the loaded library. */
FOLIO_API uint32_t folio_abi_version(void);

/* The message of the calling thread's last failed call; "" when the last call succeeded. Never NULL. */
FOLIO_API const char* folio_last_error(void);

/* The constant's name without its prefix ("INVALID_HANDLE"), or "UNKNOWN". Never NULL, static storage. */
FOLIO_API const char* folio_status_name(int32_t status);

#endif /* FOLIO_COMMON_H */
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
                                       NULL or empty), "b8", "llama-1b", "llama-8b" (seeded random weights,
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

#ifdef __cplusplus
}
#endif

#endif /* FOLIO_H */
