// model_ops.cu: embedding gather, residual add + RMSNorm, SiLU-and-mul (folio_cuda.h, "Model ops").
// Each is memory-bound: one pass over its rows, one CTA per row (SiLU-and-mul: per chunk of a row), fp32 math.
#include <cuda_runtime.h>
#include <stdint.h>

#include "dtype.cuh"
#include "status.cuh"

namespace folio {
namespace {

constexpr int kRowThreads = 256;

// One CTA per token: a row copy in 16/8/4/2/1-byte units (V), or zeros for an id outside the table.
template <typename V>
__global__ void __launch_bounds__(kRowThreads)
    embedding_gather_kernel(V* __restrict__ out, const V* __restrict__ table, const int32_t* __restrict__ ids,
                            int32_t vocab_size, int64_t row_vecs) {
    const int64_t t = blockIdx.x;
    const int32_t id = ids[t];
    V* dst = out + t * row_vecs;
    if (id < 0 || id >= vocab_size) {
        for (int64_t i = threadIdx.x; i < row_vecs; i += kRowThreads) dst[i] = V{};
        return;
    }
    const V* src = table + (int64_t)id * row_vecs;
    for (int64_t i = threadIdx.x; i < row_vecs; i += kRowThreads) dst[i] = src[i];
}

// Sum over the CTA, in a fixed order (a run gives the same bits every time).
__device__ float block_sum(float v, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < (int)(blockDim.x / 32) ? scratch[lane] : 0.f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// One CTA per token. Pass 1 forms r (the new residual, rounded to T and stored) and its sum of squares; pass 2
// normalises. r is re-read from residual (or x) in pass 2: the row stays in L1/L2, and no register array of
// unknown length is needed. out may alias x: every x of the row is read in pass 1, before the barrier.
template <typename T>
__global__ void __launch_bounds__(kRowThreads)
    add_rms_norm_kernel(T* out, T* residual, const T* x, const T* __restrict__ weight, int hidden, float eps) {
    __shared__ float scratch[32];
    const int64_t row = (int64_t)blockIdx.x * hidden;
    float sum_sq = 0.f;
    for (int i = threadIdx.x; i < hidden; i += kRowThreads) {
        float r = to_float(x[row + i]);
        if (residual) {
            r = round_to<T>(r + to_float(residual[row + i]));
            residual[row + i] = from_float<T>(r);
        }
        sum_sq = fmaf(r, r, sum_sq);
    }
    const float inv_rms = rsqrtf(block_sum(sum_sq, scratch) / (float)hidden + eps);
    const T* r_src = residual ? residual : x;
    for (int i = threadIdx.x; i < hidden; i += kRowThreads) {
        const float normed = round_to<T>(to_float(r_src[row + i]) * inv_rms);
        out[row + i] = from_float<T>(normed * to_float(weight[i]));
    }
}

// Up to kVecsPerThread 16-byte vectors of a row per thread, held in registers between the two passes (one read of
// each input): rows up to 4 x 256 x 8 = 8192 bf16 / fp16 or 4096 fp32 values, the hidden sizes of served models.
// Same arithmetic as add_rms_norm_kernel, with the sum of squares taken in another (fixed) order.
constexpr int kVecsPerThread = 4;

template <typename T>
struct alignas(16) Vec {
    static constexpr int kSize = 16 / sizeof(T);
    T v[kSize];
};

template <typename T>
__global__ void __launch_bounds__(kRowThreads)
    add_rms_norm_vec_kernel(T* out, T* residual, const T* x, const T* __restrict__ weight, int hidden, float eps) {
    constexpr int kSize = Vec<T>::kSize;
    __shared__ float scratch[32];
    const int vecs = hidden / kSize;
    const int64_t row = (int64_t)blockIdx.x * vecs;
    const Vec<T>* xv = reinterpret_cast<const Vec<T>*>(x) + row;
    Vec<T>* rv = residual ? reinterpret_cast<Vec<T>*>(residual) + row : nullptr;
    float r[kVecsPerThread][kSize];
    float sum_sq = 0.f;
#pragma unroll
    for (int j = 0; j < kVecsPerThread; ++j) {
        const int v = threadIdx.x + j * kRowThreads;
        if (v >= vecs) break;
        const Vec<T> a = xv[v];
        Vec<T> b;
        if (rv) b = rv[v];
#pragma unroll
        for (int e = 0; e < kSize; ++e) {
            float value = to_float(a.v[e]);
            if (rv) {
                value = round_to<T>(value + to_float(b.v[e]));
                b.v[e] = from_float<T>(value);
            }
            r[j][e] = value;
            sum_sq = fmaf(value, value, sum_sq);
        }
        if (rv) rv[v] = b;
    }
    const float inv_rms = rsqrtf(block_sum(sum_sq, scratch) / (float)hidden + eps);
    Vec<T>* ov = reinterpret_cast<Vec<T>*>(out) + row;
    const Vec<T>* wv = reinterpret_cast<const Vec<T>*>(weight);
#pragma unroll
    for (int j = 0; j < kVecsPerThread; ++j) {
        const int v = threadIdx.x + j * kRowThreads;
        if (v >= vecs) break;
        const Vec<T> w = wv[v];
        Vec<T> o;
#pragma unroll
        for (int e = 0; e < kSize; ++e) o.v[e] = from_float<T>(round_to<T>(r[j][e] * inv_rms) * to_float(w.v[e]));
        ov[v] = o;
    }
}

// One warp per (token, head): the head's values in registers between the sum of squares and the product (a lane
// holds head_dim / 32 of them, at most kPerLane), the sum reduced across the warp in a fixed order.
constexpr int kHeadWarps = kRowThreads / 32;
constexpr int kHeadValuesPerLane = 32;   // the most a lane holds: head_dim <= 1024

template <typename T, int kPerLane>
__global__ void __launch_bounds__(kRowThreads)
    head_rms_norm_kernel(T* x, const T* __restrict__ weight, int64_t num_heads_total, int num_heads, int head_dim,
                         int64_t token_stride, float eps) {
    const int64_t item = (int64_t)blockIdx.x * kHeadWarps + threadIdx.x / 32;
    if (item >= num_heads_total) return;
    const int lane = threadIdx.x % 32;
    T* head = x + (item / num_heads) * token_stride + (item % num_heads) * head_dim;
    float v[kPerLane];
    float sum_sq = 0.f;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
        const int i = lane + 32 * j;
        v[j] = i < head_dim ? to_float(head[i]) : 0.f;
        sum_sq = fmaf(v[j], v[j], sum_sq);
    }
    for (int o = 16; o > 0; o >>= 1) sum_sq += __shfl_xor_sync(0xffffffffu, sum_sq, o);
    const float inv_rms = rsqrtf(sum_sq / (float)head_dim + eps);
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
        const int i = lane + 32 * j;
        if (i < head_dim) head[i] = from_float<T>(round_to<T>(v[j] * inv_rms) * to_float(weight[i]));
    }
}

// SiLU-and-mul over a 2-D grid flattened into x: each CTA takes kSiluChunk consecutive values of one row (a decode
// step's few hundred rows of 8192-14336 values fill every SM; one CTA per row left most of them idle).
constexpr int kSiluPerThread = 8;
constexpr int kSiluChunk = kRowThreads * kSiluPerThread;

template <typename T>
__device__ __forceinline__ T silu_times(float g, float u) {
    return from_float<T>(round_to<T>(g / (1.f + expf(-g))) * u);
}

// Each thread one run of kSiluPerThread consecutive elements read and written with 16-byte accesses when the rows
// allow it (`vectors`: every row start 16-byte aligned, intermediate a multiple of the run); else strided scalars.
// The same arithmetic per element either way. With 2-byte loads, one in flight per thread, the kernel ran at ~1.2
// TB/s on a decode step (ncu, bench/RESULTS.md).
template <typename T>
__global__ void __launch_bounds__(kRowThreads)
    silu_and_mul_kernel(T* __restrict__ out, const T* __restrict__ x, int intermediate, int64_t x_row_stride,
                        int chunks_per_row, bool vectors) {
    const int64_t row = blockIdx.x / chunks_per_row;
    const int begin = (int)(blockIdx.x % chunks_per_row) * kSiluChunk;
    const T* gate = x + row * x_row_stride;
    const T* up = gate + intermediate;
    T* dst = out + row * intermediate;
    if (vectors) {
        constexpr int kPer = 16 / sizeof(T), kLoads = kSiluPerThread / kPer;
        const int i = begin + threadIdx.x * kSiluPerThread;
        if (i >= intermediate) return;
        uint4 gv[kLoads], uv[kLoads], ov[kLoads];
#pragma unroll
        for (int l = 0; l < kLoads; ++l) {
            gv[l] = reinterpret_cast<const uint4*>(gate + i)[l];
            uv[l] = reinterpret_cast<const uint4*>(up + i)[l];
        }
#pragma unroll
        for (int l = 0; l < kLoads; ++l) {
            const T* ge = reinterpret_cast<const T*>(&gv[l]);
            const T* ue = reinterpret_cast<const T*>(&uv[l]);
            T* oe = reinterpret_cast<T*>(&ov[l]);
#pragma unroll
            for (int e = 0; e < kPer; ++e) oe[e] = silu_times<T>(to_float(ge[e]), to_float(ue[e]));
            reinterpret_cast<uint4*>(dst + i)[l] = ov[l];
        }
        return;
    }
#pragma unroll
    for (int j = 0; j < kSiluPerThread; ++j) {
        const int i = begin + j * kRowThreads + threadIdx.x;
        if (i >= intermediate) break;
        dst[i] = silu_times<T>(to_float(gate[i]), to_float(up[i]));
    }
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_embedding_gather(void* out, const void* table, const int32_t* token_ids, int32_t num_tokens,
                                          int32_t vocab_size, int32_t hidden, int32_t element_size, void* stream) {
    FOLIO_REQUIRE(num_tokens >= 0, "embedding_gather: num_tokens must be >= 0 (got %d)", num_tokens);
    FOLIO_REQUIRE(vocab_size > 0 && hidden > 0, "embedding_gather: vocab_size (%d) and hidden (%d) must be > 0",
                  vocab_size, hidden);
    FOLIO_REQUIRE(element_size == 1 || element_size == 2 || element_size == 4 || element_size == 8,
                  "embedding_gather: element_size must be 1, 2, 4 or 8 bytes (got %d)", element_size);
    if (num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(out && table && token_ids, "embedding_gather: out, table and token_ids must be non-null");
    FOLIO_REQUIRE(num_tokens <= 0x7fffffff, "embedding_gather: too many tokens");
    const int64_t row_bytes = (int64_t)hidden * element_size;
    const uint64_t bits = (uint64_t)(uintptr_t)out | (uint64_t)(uintptr_t)table | (uint64_t)row_bytes;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
#define FOLIO_GATHER(V)                                                                                         \
    folio::embedding_gather_kernel<V><<<num_tokens, folio::kRowThreads, 0, s>>>(                                \
        static_cast<V*>(out), static_cast<const V*>(table), token_ids, vocab_size, row_bytes / (int64_t)sizeof(V))
    if (bits % 16 == 0) FOLIO_GATHER(uint4);
    else if (bits % 8 == 0) FOLIO_GATHER(uint2);
    else if (bits % 4 == 0) FOLIO_GATHER(uint32_t);
    else if (bits % 2 == 0) FOLIO_GATHER(uint16_t);
    else FOLIO_GATHER(uint8_t);
#undef FOLIO_GATHER
    return folio::check_launch("embedding_gather");
}

extern "C" int32_t folio_add_rms_norm(void* out, void* residual, const void* x, const void* weight, int32_t num_tokens,
                                      int32_t hidden, float eps, int32_t dtype, void* stream) {
    FOLIO_REQUIRE(num_tokens >= 0, "add_rms_norm: num_tokens must be >= 0 (got %d)", num_tokens);
    FOLIO_REQUIRE(hidden > 0, "add_rms_norm: hidden must be > 0 (got %d)", hidden);
    FOLIO_REQUIRE(eps >= 0.f && eps < 1.f, "add_rms_norm: eps must be in [0, 1) (got %g)", (double)eps);
    FOLIO_REQUIRE(folio::is_float_dtype(dtype), "add_rms_norm: dtype must be F32, BF16 or F16 (got %d)", dtype);
    if (num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(out && x && weight, "add_rms_norm: out, x and weight must be non-null (residual may be null)");
    FOLIO_REQUIRE(!residual || (residual != out && residual != x),
                  "add_rms_norm: residual must not alias out or x");
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    folio::dispatch_float(dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        constexpr int kSize = folio::Vec<T>::kSize;
        const bool aligned = [&] {
            for (const void* ptr : {(const void*)out, (const void*)residual, x, weight})
                if (reinterpret_cast<uintptr_t>(ptr) % 16 != 0) return false;
            return true;
        }();
        if (aligned && hidden % kSize == 0 && hidden / kSize <= folio::kVecsPerThread * folio::kRowThreads) {
            folio::add_rms_norm_vec_kernel<T><<<num_tokens, folio::kRowThreads, 0, s>>>(
                static_cast<T*>(out), static_cast<T*>(residual), static_cast<const T*>(x), static_cast<const T*>(weight),
                hidden, eps);
        } else {
            folio::add_rms_norm_kernel<T><<<num_tokens, folio::kRowThreads, 0, s>>>(
                static_cast<T*>(out), static_cast<T*>(residual), static_cast<const T*>(x), static_cast<const T*>(weight),
                hidden, eps);
        }
    });
    return folio::check_launch("add_rms_norm");
}

extern "C" int32_t folio_head_rms_norm(void* x, const void* weight, int32_t num_tokens, int32_t num_heads,
                                       int32_t head_dim, int64_t token_stride, float eps, int32_t dtype, void* stream) {
    FOLIO_REQUIRE(num_tokens >= 0, "head_rms_norm: num_tokens must be >= 0 (got %d)", num_tokens);
    FOLIO_REQUIRE(num_heads > 0, "head_rms_norm: num_heads must be > 0 (got %d)", num_heads);
    FOLIO_REQUIRE(head_dim > 0 && head_dim <= 32 * folio::kHeadValuesPerLane,
                  "head_rms_norm: head_dim must be in (0, %d] (got %d)", 32 * folio::kHeadValuesPerLane, head_dim);
    FOLIO_REQUIRE(token_stride >= (int64_t)num_heads * head_dim,
                  "head_rms_norm: token_stride (%lld) must be >= num_heads * head_dim (%lld)", (long long)token_stride,
                  (long long)num_heads * head_dim);
    FOLIO_REQUIRE(eps >= 0.f && eps < 1.f, "head_rms_norm: eps must be in [0, 1) (got %g)", (double)eps);
    FOLIO_REQUIRE(folio::is_float_dtype(dtype), "head_rms_norm: dtype must be F32, BF16 or F16 (got %d)", dtype);
    if (num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(x && weight, "head_rms_norm: x and weight must be non-null");
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    const int64_t items = (int64_t)num_tokens * num_heads;
    const int64_t blocks = (items + folio::kHeadWarps - 1) / folio::kHeadWarps;
    FOLIO_REQUIRE(blocks <= INT32_MAX, "head_rms_norm: num_tokens * num_heads (%lld) is too large", (long long)items);
    folio::dispatch_float(dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        // Registers sized for the head: 128 (Qwen3's) and 256 take the short arrays.
        auto launch = [&](auto kernel) {
            kernel<<<(unsigned)blocks, folio::kRowThreads, 0, s>>>(static_cast<T*>(x), static_cast<const T*>(weight), items,
                                                                    num_heads, head_dim, token_stride, eps);
        };
        if (head_dim <= 128) launch(folio::head_rms_norm_kernel<T, 4>);
        else if (head_dim <= 256) launch(folio::head_rms_norm_kernel<T, 8>);
        else launch(folio::head_rms_norm_kernel<T, folio::kHeadValuesPerLane>);
    });
    return folio::check_launch("head_rms_norm");
}

extern "C" int32_t folio_silu_and_mul(void* out, const void* x, int32_t num_tokens, int32_t intermediate,
                                      int64_t x_row_stride, int32_t dtype, void* stream) {
    FOLIO_REQUIRE(num_tokens >= 0, "silu_and_mul: num_tokens must be >= 0 (got %d)", num_tokens);
    FOLIO_REQUIRE(intermediate > 0, "silu_and_mul: intermediate must be > 0 (got %d)", intermediate);
    FOLIO_REQUIRE(x_row_stride >= 2 * (int64_t)intermediate,
                  "silu_and_mul: x_row_stride (%lld) must be >= 2 * intermediate (%lld)", (long long)x_row_stride,
                  2 * (long long)intermediate);
    FOLIO_REQUIRE(folio::is_float_dtype(dtype), "silu_and_mul: dtype must be F32, BF16 or F16 (got %d)", dtype);
    if (num_tokens == 0) return folio::ok();
    FOLIO_REQUIRE(out && x, "silu_and_mul: out and x must be non-null");
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    folio::dispatch_float(dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const int chunks = (intermediate + folio::kSiluChunk - 1) / folio::kSiluChunk;
        const bool vectors = ((reinterpret_cast<uintptr_t>(out) | reinterpret_cast<uintptr_t>(x)) & 15) == 0 &&
                             intermediate % folio::kSiluPerThread == 0 && x_row_stride % folio::kSiluPerThread == 0;
        folio::silu_and_mul_kernel<T><<<(unsigned)((int64_t)num_tokens * chunks), folio::kRowThreads, 0, s>>>(
            static_cast<T*>(out), static_cast<const T*>(x), intermediate, x_row_stride, chunks, vectors);
    });
    return folio::check_launch("silu_and_mul");
}
