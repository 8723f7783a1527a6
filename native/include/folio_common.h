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

/* The element type of the CPU backend's KV cache (folio_engine_params.kv_cache_dtype). ABI 1.5. Attention computes
 * in fp32 either way. FOLIO_DEVICE_CUDA takes only AUTO (its cache is in folio_engine_params.dtype). */
enum folio_kv_cache_dtype {
    FOLIO_KV_CACHE_DTYPE_AUTO = 0,  /* the backend's default: fp32 on the CPU (default) */
    FOLIO_KV_CACHE_DTYPE_F32 = 1,   /* fp32: exact */
    FOLIO_KV_CACHE_DTYPE_BF16 = 2   /* bf16: half the bytes (twice the tokens in the same kv_memory_bytes), K and V
                                       rounded to nearest even when written; every CPU and head size (the one-pass
                                       attention where AVX-512 code runs, the two-pass one elsewhere; before the
                                       twentieth session the x86-64-v3 build returned UNSUPPORTED) */
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
