// sampling.cu: folio_sample (folio_cuda.h, "Sampling on the GPU"). One CTA of 1024 threads per row: the row's
// logits go to an fp32 work row (workspace), penalties and suppression edit it in place, then reductions give
// the log-softmax normaliser, the top logprobs, the filter thresholds (sampling_select.cuh) and the draw.
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include <type_traits>

#include "block_reduce.cuh"
#include "dtype.cuh"
#include "philox.cuh"
#include "sampling_rows.cuh"
#include "sampling_select.cuh"
#include "status.cuh"

namespace folio {
namespace {

constexpr int kSampleThreads = 1024;
constexpr int kMaxVocab = 262144;  // the seen-bitmask (vocab bits) stays within 32 KB of shared memory

struct TokenList {
    const int32_t* ids;
    int begin, end;
};

__device__ __forceinline__ TokenList row_list(const int32_t* ids, const int32_t* offsets, int row) {
    if (!ids) return TokenList{nullptr, 0, 0};
    return TokenList{ids, offsets[row], offsets[row + 1]};
}

// True for the one thread whose call first marks `id` in the CTA's bitmask.
__device__ __forceinline__ bool first_mark(uint32_t* seen, int id) {
    const uint32_t bit = 1u << (id & 31);
    return (atomicOr(&seen[id >> 5], bit) & bit) == 0;
}

__device__ __forceinline__ void clear_bits(uint32_t* seen, int vocab) {
    __syncthreads();
    for (int i = threadIdx.x; i < (vocab + 31) / 32; i += blockDim.x) seen[i] = 0;
    __syncthreads();
}

// Steps 1-3 of the header: fp32 copy with invalid ids at -inf, repetition, frequency and presence penalties,
// suppression. Every edit of an id happens once, in one thread (the bitmask picks it), in the CPU sampler's
// arithmetic (no fused multiply-add).
template <typename T>
__device__ void prepare_row(const folio_cuda_sample_params& p, int row, float* w, int32_t* counts, uint32_t* seen) {
    const int vocab = p.vocab_size;
    const int valid = p.valid_vocab > 0 && p.valid_vocab < vocab ? p.valid_vocab : vocab;
    const T* in = static_cast<const T*>(p.logits) + (int64_t)row * p.logits_row_stride;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) w[i] = i < valid ? to_float(in[i]) : -INFINITY;
    const TokenList prompt = row_list(p.prompt_tokens, p.prompt_offsets, row);
    const TokenList output = row_list(p.output_tokens, p.output_offsets, row);
    const float rep = p.repetition_penalty ? p.repetition_penalty[row] : 1.f;
    if (rep != 1.f) {
        clear_bits(seen, vocab);
        const int n_prompt = prompt.end - prompt.begin, n = n_prompt + (output.end - output.begin);
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            const int id = j < n_prompt ? prompt.ids[prompt.begin + j] : output.ids[output.begin + j - n_prompt];
            if (id < 0 || id >= vocab || !first_mark(seen, id)) continue;
            w[id] = w[id] > 0.f ? __fdiv_rn(w[id], rep) : __fmul_rn(w[id], rep);
        }
    }
    const float presence = p.presence_penalty ? p.presence_penalty[row] : 0.f;
    const float frequency = p.frequency_penalty ? p.frequency_penalty[row] : 0.f;
    if (presence != 0.f || frequency != 0.f) {
        __syncthreads();
        for (int j = output.begin + threadIdx.x; j < output.end; j += blockDim.x) {
            const int id = output.ids[j];
            if (id >= 0 && id < vocab) counts[id] = 0;
        }
        clear_bits(seen, vocab);
        for (int j = output.begin + threadIdx.x; j < output.end; j += blockDim.x) {
            const int id = output.ids[j];
            if (id >= 0 && id < vocab) atomicAdd(&counts[id], 1);
        }
        __syncthreads();
        for (int j = output.begin + threadIdx.x; j < output.end; j += blockDim.x) {
            const int id = output.ids[j];
            if (id < 0 || id >= vocab || !first_mark(seen, id)) continue;
            w[id] = __fsub_rn(w[id], __fadd_rn(__fmul_rn(frequency, (float)counts[id]), presence));
        }
    }
    __syncthreads();
    const TokenList suppressed = row_list(p.suppressed_tokens, p.suppressed_offsets, row);
    for (int j = suppressed.begin + threadIdx.x; j < suppressed.end; j += blockDim.x) {
        const int id = suppressed.ids[j];
        if (id >= 0 && id < vocab) w[id] = -INFINITY;
    }
    __syncthreads();
}

template <typename T>
__global__ void __launch_bounds__(kSampleThreads)
    sample_kernel(folio_cuda_sample_params p, float* __restrict__ work, int32_t* __restrict__ counts_all) {
    extern __shared__ uint32_t seen[];
    __shared__ float red_v[32];
    __shared__ int red_i[32];
    __shared__ double red_d[32];
    __shared__ RadixScratch radix;
    const int row = blockIdx.x, vocab = p.vocab_size;
    float* w = work + (int64_t)row * vocab;
    // A row that no penalty, suppression or filter edits or scans by key is read straight from the logits (the
    // values the fp32 copy would hold, bit for bit): a decode step's rows are mostly such rows, and one SM's share
    // of memory bandwidth made the copy and the fp32 re-reads most of the kernel's time.
    const TokenList suppressed = row_list(p.suppressed_tokens, p.suppressed_offsets, row);
    const float temperature = p.temperature ? p.temperature[row] : 0.f;
    const int top_k = p.top_k ? p.top_k[row] : 0;
    const float top_p = p.top_p ? p.top_p[row] : 1.f;
    const bool edits = (p.repetition_penalty && p.repetition_penalty[row] != 1.f) ||
                       (p.presence_penalty && p.presence_penalty[row] != 0.f) ||
                       (p.frequency_penalty && p.frequency_penalty[row] != 0.f) || suppressed.end > suppressed.begin;
    const bool filters = temperature > 0.f && ((top_k > 0 && top_k < vocab) || top_p < 1.f);
    const bool direct = !edits && !filters;
    const int valid = p.valid_vocab > 0 && p.valid_vocab < vocab ? p.valid_vocab : vocab;
    const T* in = static_cast<const T*>(p.logits) + (int64_t)row * p.logits_row_stride;
    if (!direct) prepare_row<T>(p, row, w, counts_all + (int64_t)row * vocab, seen);
    // Every pass visits the row by groups of four ids (sampling_rows.cuh): the logits themselves for a direct row,
    // else the fp32 work row (invalid ids already -inf there).
    // Pass 1 reads the row from memory (four loads in flight); the later passes find it in L2 and are bound by
    // their arithmetic, where more loads in flight spilled registers and ran slower (bench/sample_probe.cu: 181 us
    // with one, 183 with two, 208 with four at 256 rows of 128,256).
    auto visit = [&](auto loads, auto&& f) {
        if (direct) for_each_group<decltype(loads)::value>(in, valid, vocab, f);
        else for_each_group<decltype(loads)::value>(static_cast<const float*>(w), vocab, vocab, f);
    };
    using FromMemory = std::integral_constant<int, 4>;
    using FromL2 = std::integral_constant<int, 1>;

    // Pass 1: the max (the greedy token).
    ArgMax best{-INFINITY, INT_MAX};
    visit(FromMemory{}, [&](int g, const float (&x)[4]) {
#pragma unroll
        for (int lane = 0; lane < 4; ++lane)
            if (beats(x[lane], 4 * g + lane, best)) best = ArgMax{x[lane], 4 * g + lane};
    });
    const ArgMax top = block_argmax(best, red_v, red_i);
    const int greedy = top.index == INT_MAX ? 0 : top.index;
    const float max = top.value;
    const bool draws = temperature > 0.f && max > -INFINITY;
    const float inv_t = draws ? 1.f / temperature : 1.f;

    // The filters' threshold: keep w[i] with order_key(w[i]) >= floor_key (a filtering row is never direct).
    uint32_t floor_key = 0;
    if (draws && filters) {
        if (top_k > 0 && top_k < vocab) floor_key = select_kth_largest(w, vocab, top_k, radix);
        if (top_p < 1.f) {
            double kept = 0.0;
            for (int i = threadIdx.x; i < vocab; i += blockDim.x)
                if (order_key(w[i]) >= floor_key) kept += exp((double)__fmul_rn(__fsub_rn(w[i], max), inv_t));
            kept = block_sum(kept, red_d);
            const double scale = kMassScale / kept;
            auto mass = [&](int i) {
                return (unsigned long long)(exp((double)__fmul_rn(__fsub_rn(w[i], max), inv_t)) * scale);
            };
            const unsigned long long target = (unsigned long long)((double)top_p * kMassScale);
            const uint32_t p_key = select_mass_boundary(w, vocab, floor_key, target, mass, radix);
            floor_key = p_key > floor_key ? p_key : floor_key;
        }
    }

    // Pass 2, fused: the log-softmax normaliser (the sum of exp(w - max) in double) and the draw: argmax of
    // d + Gumbel noise over the kept ids, id i's noise lane i % 4 of Philox block i / 4.
    const float min_p = p.min_p ? p.min_p[row] : 0.f;
    const uint64_t seed = p.seeds ? p.seeds[row] : 0ull;
    const uint64_t draw = p.draw_index ? p.draw_index[row] : 0ull;
    double sum = 0.0;
    ArgMax pick{-INFINITY, INT_MAX};
    if (max > -INFINITY) {
        visit(FromL2{}, [&](int g, const float (&x)[4]) {
#pragma unroll
            for (int lane = 0; lane < 4; ++lane) sum += (double)expf(x[lane] - max);
            if (!draws) return;
            const Philox4 r = philox4x32_10((uint32_t)g, (uint32_t)draw, (uint32_t)(draw >> 32), 0u, (uint32_t)seed,
                                            (uint32_t)(seed >> 32));
#pragma unroll
            for (int lane = 0; lane < 4; ++lane) {
                const int i = 4 * g + lane;
                const float v = x[lane];
                if (i >= vocab || order_key(v) < floor_key || v == -INFINITY) continue;
                const float d = __fmul_rn(__fsub_rn(v, max), inv_t);
                if (min_p > 0.f && !(exp((double)d) >= (double)min_p)) continue;
                const float score = d - logf(-logf(uniform_open(r.x[lane])));
                if (beats(score, i, pick)) pick = ArgMax{score, i};
            }
        });
    }
    sum = block_sum(sum, red_d);
    pick = block_argmax(pick, red_v, red_i);
    const float log_z = (float)log(sum) + max;
    // A row whose every id is -inf (all suppressed) has logprob -inf everywhere, not -inf - -inf.
    auto logprob = [&](float v) { return max > -INFINITY ? v - log_z : -INFINITY; };
    const int token = draws && pick.index != INT_MAX ? pick.index : greedy;

    // Top logprobs: k passes, each the best below the previous one in (value desc, id asc) order.
    ArgMax previous{INFINITY, -1};
    for (int j = 0; j < p.num_logprobs; ++j) {
        ArgMax b{-INFINITY, INT_MAX};
        visit(FromL2{}, [&](int g, const float (&x)[4]) {
#pragma unroll
            for (int lane = 0; lane < 4; ++lane) {
                const int i = 4 * g + lane;
                const float v = x[lane];
                const bool after = v < previous.value || (v == previous.value && i > previous.index);
                if (i < vocab && after && beats(v, i, b)) b = ArgMax{v, i};
            }
        });
        b = block_argmax(b, red_v, red_i);
        if (threadIdx.x == 0) {
            p.top_ids[(int64_t)row * p.num_logprobs + j] = b.index == INT_MAX ? -1 : b.index;
            p.top_logprobs[(int64_t)row * p.num_logprobs + j] = b.index == INT_MAX ? -INFINITY : logprob(b.value);
        }
        previous = b;
    }
    auto value = [&](int i) -> float { return direct ? (i < valid ? to_float(in[i]) : -INFINITY) : w[i]; };
    if (threadIdx.x == 0) {
        p.sampled[row] = token;
        if (p.sampled_logprobs) p.sampled_logprobs[row] = logprob(value(token));
    }
}

size_t workspace_bytes_for(int64_t rows, int64_t vocab) {
    return (size_t)(rows * vocab) * (sizeof(float) + sizeof(int32_t));
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_sample_workspace_size(int32_t num_rows, int32_t vocab_size, size_t* workspace_bytes) {
    FOLIO_REQUIRE(num_rows >= 0, "sample: num_rows must be >= 0 (got %d)", num_rows);
    FOLIO_REQUIRE(vocab_size > 0 && vocab_size <= folio::kMaxVocab, "sample: vocab_size must be in [1, %d] (got %d)",
                  folio::kMaxVocab, vocab_size);
    FOLIO_REQUIRE(workspace_bytes, "sample: workspace_bytes must be non-null");
    *workspace_bytes = folio::workspace_bytes_for(num_rows, vocab_size);
    return folio::ok();
}

extern "C" int32_t folio_sample(const folio_cuda_sample_params* params, void* stream) {
    int32_t status = folio::check_struct_size(params, sizeof(folio_cuda_sample_params), "sample");
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    folio_cuda_sample_params p = *params;
    p.struct_size = sizeof(folio_cuda_sample_params);
    FOLIO_REQUIRE(p.num_rows >= 0, "sample: num_rows must be >= 0 (got %d)", p.num_rows);
    FOLIO_REQUIRE(p.vocab_size > 0 && p.vocab_size <= folio::kMaxVocab, "sample: vocab_size must be in [1, %d] (got %d)",
                  folio::kMaxVocab, p.vocab_size);
    FOLIO_REQUIRE(folio::is_float_dtype(p.dtype), "sample: dtype must be F32, BF16 or F16 (got %d)", p.dtype);
    FOLIO_REQUIRE(p.logits_row_stride >= p.vocab_size, "sample: logits_row_stride (%lld) must be >= vocab_size (%d)",
                  (long long)p.logits_row_stride, p.vocab_size);
    FOLIO_REQUIRE(p.valid_vocab >= 0 && p.valid_vocab <= p.vocab_size,
                  "sample: valid_vocab must be in [0, vocab_size=%d] (got %d)", p.vocab_size, p.valid_vocab);
    FOLIO_REQUIRE(p.num_logprobs >= 0 && p.num_logprobs <= FOLIO_CUDA_MAX_LOGPROBS && p.num_logprobs <= p.vocab_size,
                  "sample: num_logprobs must be in [0, min(%d, vocab_size)] (got %d)", FOLIO_CUDA_MAX_LOGPROBS,
                  p.num_logprobs);
    FOLIO_REQUIRE((!p.prompt_tokens || p.prompt_offsets) && (!p.output_tokens || p.output_offsets) &&
                      (!p.suppressed_tokens || p.suppressed_offsets),
                  "sample: a token list (prompt_tokens, output_tokens, suppressed_tokens) needs its offsets");
    if (p.num_rows == 0) return folio::ok();
    FOLIO_REQUIRE(p.logits && p.sampled, "sample: logits and sampled must be non-null");
    FOLIO_REQUIRE(p.num_logprobs == 0 || (p.top_ids && p.top_logprobs),
                  "sample: top_ids and top_logprobs must be non-null when num_logprobs > 0");
    const size_t need = folio::workspace_bytes_for(p.num_rows, p.vocab_size);
    if (!p.workspace || p.workspace_bytes < need) {
        return folio::fail(FOLIO_CUDA_STATUS_WORKSPACE_TOO_SMALL, "sample: workspace of %zu bytes, %zu needed",
                           p.workspace ? p.workspace_bytes : (size_t)0, need);
    }
    float* work = static_cast<float*>(p.workspace);
    int32_t* counts = reinterpret_cast<int32_t*>(work + (int64_t)p.num_rows * p.vocab_size);
    const size_t smem = (size_t)((p.vocab_size + 31) / 32) * sizeof(uint32_t);
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    folio::dispatch_float(p.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        folio::sample_kernel<T><<<p.num_rows, folio::kSampleThreads, smem, s>>>(p, work, counts);
    });
    return folio::check_launch("sample");
}
