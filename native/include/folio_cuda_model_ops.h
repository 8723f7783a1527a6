/*
 * folio_cuda_model_ops.h — part of folio_cuda.h: the layers of a decoder around attention (embedding, norms,
 * activation, rotary embedding with the KV write), sampling on the GPU and linear layers through cuBLASLt.
 *
 * Include folio_cuda.h, not this file: folio_cuda.h holds the conventions every function here follows, the
 * version macros, FOLIO_CUDA_API, the status codes and the paged-cache view, and includes its parts in order
 * (folio_cuda_runtime.h, folio_cuda_attention.h, folio_cuda_model_ops.h). The parts together are the
 * specification; the drift tests read them through folio_cuda.h.
 */
#ifndef FOLIO_CUDA_MODEL_OPS_H
#define FOLIO_CUDA_MODEL_OPS_H

#ifndef FOLIO_CUDA_H
#error "include folio_cuda.h, not folio_cuda_model_ops.h"
#endif

/* ===================================================================================================
 * Model ops: the layers of a decoder around attention, for the GPU model runner. dtype is F32, BF16 or F16
 * (a folio_cuda_dtype); the math is fp32 and each output is rounded to dtype once, unless a function says
 * otherwise. Tensors are row-major and contiguous unless a stride is given (strides count elements).
 * =================================================================================================== */

/* Embedding gather: out[t, :] = table[token_ids[t], :].
 *   table: [vocab_size, hidden]; out: [num_tokens, hidden]; element_size bytes per element (any dtype).
 *   token_ids: int32 [num_tokens]; an id outside [0, vocab_size) gives a row of zeros (never a read out of
 *   bounds: ids are the sampler's or the host's output, validated there). */
FOLIO_CUDA_API int32_t folio_embedding_gather(
    void* out, const void* table, const int32_t* token_ids, int32_t num_tokens, int32_t vocab_size,
    int32_t hidden, int32_t element_size, void* stream);

/* Residual add fused with RMSNorm, the join of a pre-norm decoder layer:
 *   with residual != NULL:  residual[t] = dtype(residual[t] + x[t]);  r = residual[t]  (in place)
 *   with residual == NULL:  r = x[t]
 *   out[t] = dtype(dtype(r * rsqrt(mean(r^2) + eps)) * weight)
 * r is read back as dtype before the norm and the product with weight is rounded separately, as Hugging Face's
 * LlamaRMSNorm computes it (mean and rsqrt in fp32).
 *   out, x, residual: [num_tokens, hidden]; weight: [hidden]; out may be x (in place). */
FOLIO_CUDA_API int32_t folio_add_rms_norm(
    void* out, void* residual, const void* x, const void* weight, int32_t num_tokens, int32_t hidden,
    float eps, int32_t dtype, void* stream);

/* RMSNorm of each head, in place (Qwen3's q_norm and k_norm, before RoPE):
 *   x[t, h, :] = dtype(dtype(x[t, h, :] * rsqrt(mean(x[t, h, :]^2) + eps)) * weight)
 * with the rounding of folio_add_rms_norm (mean and rsqrt in fp32), over head_dim values instead of a row.
 *   x: [num_tokens, num_heads, head_dim], a token's heads contiguous, tokens token_stride elements apart (a slice
 *   of the fused QKV projection: its query heads, or its key heads); weight: [head_dim], shared by every head.
 *   head_dim in (0, 1024]; token_stride >= num_heads * head_dim. Added in 2.3.0. */
FOLIO_CUDA_API int32_t folio_head_rms_norm(
    void* x, const void* weight, int32_t num_tokens, int32_t num_heads, int32_t head_dim, int64_t token_stride,
    float eps, int32_t dtype, void* stream);

/* SiLU and multiply, the gated MLP: out[t, i] = dtype(dtype(silu(x[t, i])) * x[t, intermediate + i]), i.e.
 * F.silu(gate) * up over the fused gate_up projection x.
 *   x: [num_tokens, >= 2 * intermediate], rows x_row_stride elements apart; out: [num_tokens, intermediate]. */
FOLIO_CUDA_API int32_t folio_silu_and_mul(
    void* out, const void* x, int32_t num_tokens, int32_t intermediate, int64_t x_row_stride, int32_t dtype,
    void* stream);

/* Rotary frequencies (host side): the model's config as read from its config.json. */
typedef struct folio_cuda_rope_config {
    uint32_t struct_size;
    int32_t rotary_dim;                /* even, in (0, 512]: head_dim unless the model rotates part of each head */
    float theta;                       /* rope_theta, > 1 */
    int32_t scaling;                   /* folio_cuda_rope_scaling */
    float factor;                      /* LLAMA3: rope_scaling.factor (8 for Llama 3.1), >= 1 */
    float low_freq_factor;             /* LLAMA3: 1 for Llama 3.1 */
    float high_freq_factor;            /* LLAMA3: 4 for Llama 3.1, > low_freq_factor */
    int32_t original_max_position;     /* LLAMA3: original_max_position_embeddings (8192), > 0 */
} folio_cuda_rope_config;

/* Writes the rotary_dim / 2 inverse frequencies of config into inv_freq (HOST memory, count entries, count
 * == rotary_dim / 2), in fp32 as transformers computes them; upload them once for folio_rope_kv_write. */
FOLIO_CUDA_API int32_t folio_rope_inv_freq(const folio_cuda_rope_config* config, float* inv_freq, int32_t count);

/* RoPE fused with the KV write: rotates each token's query and key heads by its position (the rotate-half
 * form of Llama, Mistral and Qwen: dimension i pairs with i + rotary_dim/2; dimensions past rotary_dim pass
 * through), writes the rotated queries to q_out and the rotated key and the value into the token's cache slot.
 * Angles are position * inv_freq[i] in fp32, cos and sin in fp32, one rounding to dtype per output. */
typedef struct folio_cuda_rope_kv_write_params {
    uint32_t struct_size;
    int32_t num_tokens;
    int32_t num_q_heads;           /* a multiple of the cache's num_kv_heads */
    int32_t rotary_dim;            /* even, 0 < rotary_dim <= head_dim */
    void* q_out;                   /* [num_tokens, num_q_heads, head_dim], contiguous (the attention's q) */
    const void* q;                 /* [num_tokens, num_q_heads, head_dim], heads contiguous, tokens
                                      q_token_stride elements apart (a slice of the fused QKV projection) */
    const void* k;                 /* [num_tokens, num_kv_heads, head_dim], tokens k_token_stride apart */
    const void* v;                 /* [num_tokens, num_kv_heads, head_dim], tokens v_token_stride apart */
    int64_t q_token_stride;
    int64_t k_token_stride;
    int64_t v_token_stride;
    const int32_t* positions;      /* int32 [num_tokens], >= 0 */
    const int64_t* slot_mapping;   /* int64 [num_tokens]: as folio_kv_write (negative: no cache write, q is
                                      still rotated; >= num_blocks * block_size: skipped too); distinct */
    const float* inv_freq;         /* fp32 [rotary_dim / 2] (folio_rope_inv_freq) */
} folio_cuda_rope_kv_write_params;

FOLIO_CUDA_API int32_t folio_rope_kv_write(
    const folio_cuda_paged_kv* cache, const folio_cuda_rope_kv_write_params* params, void* stream);

/* ---------------------------------------------------------------------------------------------------
 * Sampling on the GPU, one row of logits per sequence, as Folio's CPU sampler (LogitsSampler) defines it:
 *   1. w = logits in fp32; ids >= valid_vocab and the row's suppressed ids are -inf;
 *   2. repetition penalty r on each distinct id of the prompt and output lists: w > 0 ? w / r : w * r;
 *   3. w[t] -= frequency_penalty * count(t in output) + presence_penalty, for each id in the output list;
 *   4. logprobs = log_softmax(w) (after penalties, before temperature and filters);
 *   5. temperature <= 0: the argmax (ties: the lowest id). Otherwise, over d = (w - max(w)) / temperature:
 *      top-k keeps the k largest (all ties at the k-th value are kept), top-p the most likely tokens whose
 *      probability (renormalised over the top-k set) first reaches top_p, min-p those with exp(d) >= min_p;
 *      then one draw from the kept tokens in proportion to exp(d): argmax of d + Gumbel noise, the noise of
 *      id i a Philox-4x32-10 draw keyed by seed and counted by (draw_index, i), so a row's token depends only
 *      on its own logits, parameters, seed and draw_index, never on the batch around it. Give each sequence
 *      its own seed (n > 1 samples of one request too) and its draw count as draw_index.
 * The draws are not the CPU sampler's (it draws by inverse CDF); the distribution is the same.
 * ------------------------------------------------------------------------------------------------- */
typedef struct folio_cuda_sample_params {
    uint32_t struct_size;
    int32_t num_rows;
    int32_t vocab_size;              /* columns of logits, 1 .. 262144 */
    int32_t dtype;                   /* of logits: F32, BF16 or F16 */
    const void* logits;              /* [num_rows, vocab_size], rows logits_row_stride elements apart */
    int64_t logits_row_stride;
    /* Per-row parameters: device arrays of num_rows entries; NULL gives every row the "off" value. */
    const float* temperature;        /* <= 0: greedy; NULL: greedy */
    const int32_t* top_k;            /* <= 0: off */
    const float* top_p;              /* >= 1: off */
    const float* min_p;              /* <= 0: off */
    const float* presence_penalty;   /* 0: off */
    const float* frequency_penalty;  /* 0: off */
    const float* repetition_penalty; /* 1: off */
    const uint64_t* seeds;           /* NULL: seed 0 */
    const uint64_t* draw_index;      /* NULL: 0 */
    /* Token lists, compressed rows: row r's ids are ids[offsets[r] .. offsets[r + 1]); a NULL ids pointer is
       an empty list for every row; ids outside [0, vocab_size) are ignored. */
    const int32_t* prompt_tokens;
    const int32_t* prompt_offsets;   /* [num_rows + 1] */
    const int32_t* output_tokens;
    const int32_t* output_offsets;
    const int32_t* suppressed_tokens;
    const int32_t* suppressed_offsets;
    int32_t valid_vocab;             /* ids >= valid_vocab are never sampled (padding rows); 0: vocab_size */
    int32_t num_logprobs;            /* 0 .. FOLIO_CUDA_MAX_LOGPROBS top logprobs per row */
    int32_t* sampled;                /* out: int32 [num_rows] */
    float* sampled_logprobs;         /* out, or NULL: [num_rows], the logprob of each sampled id */
    int32_t* top_ids;                /* out when num_logprobs > 0: [num_rows, num_logprobs], best first,
                                        ties to the lower id */
    float* top_logprobs;             /* out when num_logprobs > 0: [num_rows, num_logprobs] */
    void* workspace;                 /* folio_sample_workspace_size bytes; no zero-fill needed */
    size_t workspace_bytes;
} folio_cuda_sample_params;

FOLIO_CUDA_API int32_t folio_sample_workspace_size(int32_t num_rows, int32_t vocab_size, size_t* workspace_bytes);

FOLIO_CUDA_API int32_t folio_sample(const folio_cuda_sample_params* params, void* stream);

/* ---------------------------------------------------------------------------------------------------
 * Linear layers through cuBLASLt: out = x . weight^T (+ bias), the projections of a decoder.
 *   x:      [m, k], row-major, contiguous;  weight: [n, k], row-major (as checkpoints store a Linear's weight);
 *   bias:   [n] or NULL;                      out:    [m, n], row-major, contiguous.
 *   dtype:  of all four. F32: fp32 inputs and fp32 arithmetic (TF32 off: the exact mode of the parity tests);
 *           BF16 / F16: 16-bit inputs, fp32 accumulation, one rounding of out to dtype (bias added before it).
 * The handle (folio_cuda_blas_create) owns the cuBLASLt handle and a cache of the plans (layouts and the
 * heuristic's algorithm) per shape, so a steady step pays no heuristic query; use one handle per host thread.
 * workspace: device memory for cuBLASLt (FOLIO_CUDA_GEMM_WORKSPACE_BYTES is enough for every plan; NULL with 0
 * bytes restricts the algorithms to those needing none; 33554432 is 32 MiB). With a workspace and a warmed plan cache, a GEMM can be
 * captured into a CUDA graph.
 * flags: 0, or FOLIO_CUDA_GEMM_BATCH_INVARIANT (F32 only): each output is summed over k in index order by one
 * thread of Folio's own kernel instead of cuBLASLt (whose algorithm, and so its rounding, depends on m), so a
 * row's result is bitwise the same whatever m and its place in x. Slower; for the engine's exact fp32 mode.
 * ------------------------------------------------------------------------------------------------- */
#define FOLIO_CUDA_GEMM_WORKSPACE_BYTES 33554432
#define FOLIO_CUDA_GEMM_BATCH_INVARIANT 1

typedef struct folio_cuda_gemm_params {
    uint32_t struct_size;
    int32_t m;                     /* rows of x and out, >= 0 (0: nothing to do) */
    int32_t n;                     /* output features (rows of weight), > 0 */
    int32_t k;                     /* input features, > 0 */
    int32_t dtype;                 /* folio_cuda_dtype */
    int32_t flags;                 /* 0 or FOLIO_CUDA_GEMM_BATCH_INVARIANT (2.1: reserved, 0) */
    void* out;
    const void* x;
    const void* weight;
    const void* bias;              /* or NULL */
    void* workspace;
    size_t workspace_bytes;
} folio_cuda_gemm_params;

FOLIO_CUDA_API int32_t folio_cuda_blas_create(void** blas);
FOLIO_CUDA_API int32_t folio_cuda_blas_destroy(void* blas);
FOLIO_CUDA_API int32_t folio_gemm(void* blas, const folio_cuda_gemm_params* params, void* stream);

#endif /* FOLIO_CUDA_MODEL_OPS_H */
