// paged_prefill.cu: see paged_prefill.cuh for the layouts and the work split.
#include "paged_prefill.cuh"

#include <cuda_runtime.h>

#include "attention_common.cuh"
#include "dtype.cuh"
#include "paged_kv.cuh"
#include "status.cuh"
#if FOLIO_HAS_PREFILL_SM90
#include "paged_prefill_sm90.cuh"
#endif

namespace folio {
namespace {

constexpr int kPrefillWarps = 4;
constexpr int kPrefillThreads = kPrefillWarps * 32;
// Query rows per warp, in m16 fragments. Two fragments share every K/V fragment a warp loads from shared
// memory (half the ldmatrix traffic per FLOP); the query fragments are then reloaded from shared memory per
// k-step instead of living in registers. FOLIO_PREFILL_MFRAG builds either for tuning runs.
#ifndef FOLIO_PREFILL_MFRAG
#define FOLIO_PREFILL_MFRAG 2
#endif
constexpr int kMFrag = FOLIO_PREFILL_MFRAG;
static_assert(kMFrag == 1 || kMFrag == 2, "one or two m16 fragments per warp");
constexpr int kPrefillRows = kPrefillWarps * 16 * kMFrag;
constexpr int kPrefillStages = 2;

template <typename T, int HEAD_DIM>
constexpr size_t prefill_smem_bytes() {
    return (size_t)kPrefillStages * 2 * attn::kTileTokens * (HEAD_DIM + attn::kRowPadElems) * sizeof(T) +
           (size_t)kPrefillRows * (HEAD_DIM + attn::kRowPadElems) * sizeof(T);
}

template <typename T, int HEAD_DIM>
__global__ void __launch_bounds__(kPrefillThreads)
    paged_prefill_kernel(T* __restrict__ out, const T* __restrict__ q, const T* __restrict__ k_cache,
                         const T* __restrict__ v_cache, const int32_t* __restrict__ block_tables,
                         const int32_t* __restrict__ cu_query_lens, const int32_t* __restrict__ context_lens,
                         int num_q_heads, int num_kv_heads, int block_shift, bool hnd, int max_blocks_per_seq,
                         float scale_log2) {
    using M = attn::MmaType<T>;
    constexpr int kStride = HEAD_DIM + attn::kRowPadElems;
    constexpr int kStageElems = 2 * attn::kTileTokens * kStride;
    constexpr int kKSteps = HEAD_DIM / 16;
    constexpr int kDimTiles = HEAD_DIM / 8;
    constexpr int kTokTiles = attn::kTileTokens / 8;
    constexpr int kWarpRows = 16 * kMFrag;

    extern __shared__ __align__(16) unsigned char smem_raw[];
    T* smem = reinterpret_cast<T*>(smem_raw);
    T* sq = smem + kPrefillStages * kStageElems;

    const int row_tile = gridDim.x - 1 - blockIdx.x;  // latest rows (most keys) first
    const int kv_head = blockIdx.y;
    const int seq = blockIdx.z;
    const int group = num_q_heads / num_kv_heads;
    const int q_start = cu_query_lens[seq];
    const int q_len = cu_query_lens[seq + 1] - q_start;
    const int ctx_len = context_lens[seq];
    const int num_rows = q_len * group;
    const int row0 = row_tile * kPrefillRows;
    if (row0 >= num_rows) return;
    const int tid = threadIdx.x;
    const int warp = tid / 32;
    const int lane = tid % 32;
    const int first_pos = ctx_len - q_len;  // position of the first new token
    const int32_t* block_table = block_tables + (int64_t)seq * max_blocks_per_seq;

    // Keys this CTA needs: up to the position of its last row's token.
    const int last_row = min(row0 + kPrefillRows, num_rows) - 1;
    const int kv_end = first_pos + last_row / group + 1;
    const int min_pos = first_pos + row0 / group;  // tiles wholly at or below this need no mask
    const int num_tiles = (kv_end + attn::kTileTokens - 1) / attn::kTileTokens;

    // Query rows -> shared memory (zeros past the sequence's rows).
    constexpr int kQChunks = HEAD_DIM * sizeof(T) / 16;
    for (int i = tid; i < kPrefillRows * kQChunks; i += kPrefillThreads) {
        const int r = i / kQChunks;
        const int chunk = i % kQChunks;
        const int row = row0 + r;
        const bool valid = row < num_rows;
        int64_t offset = 0;
        if (valid) {
            const int64_t token = q_start + row / group;
            offset = (token * num_q_heads + (int64_t)kv_head * group + row % group) * HEAD_DIM;
        }
        attn::cp_async_16(sq + r * kStride + chunk * (16 / sizeof(T)), q + offset + chunk * (16 / sizeof(T)), valid);
    }
    attn::cp_async_commit();
#pragma unroll
    for (int s = 0; s < kPrefillStages - 1; ++s) {
        if (s < num_tiles) {
            T* sk = smem + s * kStageElems;
            attn::load_kv_tile<T, HEAD_DIM, attn::kTileTokens, kPrefillThreads>(
                sk, sk + attn::kTileTokens * kStride, k_cache, v_cache, block_table, max_blocks_per_seq,
                s * attn::kTileTokens, kv_end, block_shift, kv_head, num_kv_heads, hnd, tid);
        }
        attn::cp_async_commit();
    }

    const int ld_row = (lane & 7) + ((lane >> 3) & 1) * 8;
    const int ld_col = (lane >> 4) * 8;
    const int quad_row = lane / 4;
    const int quad_col = (lane % 4) * 2;
    const T* sq_warp = sq + warp * kWarpRows * kStride;

    // Causal limit of this thread's rows (g and g + 8 of each m fragment); rows past the sequence see no
    // key (their output is never written).
    int row_pos[kMFrag][2];
#pragma unroll
    for (int m = 0; m < kMFrag; ++m) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const int row = row0 + warp * kWarpRows + m * 16 + quad_row + 8 * r;
            row_pos[m][r] = row < num_rows ? first_pos + row / group : -1;
        }
    }

    // With one fragment the query operand stays in registers; with two it is reloaded per k-step.
    uint32_t qa_keep[kMFrag == 1 ? kKSteps : 1][4];
    float o[kMFrag][kDimTiles][4];
    float row_m[kMFrag][2];
    float row_l[kMFrag][2];
#pragma unroll
    for (int m = 0; m < kMFrag; ++m) {
#pragma unroll
        for (int n = 0; n < kDimTiles; ++n) o[m][n][0] = o[m][n][1] = o[m][n][2] = o[m][n][3] = 0.f;
        row_m[m][0] = row_m[m][1] = -INFINITY;
        row_l[m][0] = row_l[m][1] = 0.f;
    }

    for (int t = 0; t < num_tiles; ++t) {
        attn::cp_async_wait<kPrefillStages - 2>();
        __syncthreads();
        if constexpr (kMFrag == 1) {
            if (t == 0) {
#pragma unroll
                for (int kk = 0; kk < kKSteps; ++kk)
                    attn::ldmatrix_x4(qa_keep[kk], sq_warp + ld_row * kStride + kk * 16 + ld_col);
            }
        }
        {
            const int next = t + kPrefillStages - 1;
            if (next < num_tiles) {
                T* sk = smem + (next % kPrefillStages) * kStageElems;
                attn::load_kv_tile<T, HEAD_DIM, attn::kTileTokens, kPrefillThreads>(
                    sk, sk + attn::kTileTokens * kStride, k_cache, v_cache, block_table, max_blocks_per_seq,
                    next * attn::kTileTokens, kv_end, block_shift, kv_head, num_kv_heads, hnd, tid);
            }
            attn::cp_async_commit();
        }
        const T* sk = smem + (t % kPrefillStages) * kStageElems;
        const T* sv = sk + attn::kTileTokens * kStride;
        const int tok0 = t * attn::kTileTokens;

        float s[kMFrag][kTokTiles][4];
#pragma unroll
        for (int m = 0; m < kMFrag; ++m)
#pragma unroll
            for (int nt = 0; nt < kTokTiles; ++nt) s[m][nt][0] = s[m][nt][1] = s[m][nt][2] = s[m][nt][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < kKSteps; ++kk) {
            uint32_t qa[kMFrag][4];
#pragma unroll
            for (int m = 0; m < kMFrag; ++m) {
                if constexpr (kMFrag == 1) {
#pragma unroll
                    for (int e = 0; e < 4; ++e) qa[m][e] = qa_keep[kk][e];
                } else {
                    attn::ldmatrix_x4(qa[m], sq_warp + (m * 16 + ld_row) * kStride + kk * 16 + ld_col);
                }
            }
#pragma unroll
            for (int np = 0; np < kTokTiles / 2; ++np) {
                uint32_t kb[4];
                attn::ldmatrix_x4(kb, sk + (np * 16 + ld_row) * kStride + kk * 16 + ld_col);
#pragma unroll
                for (int m = 0; m < kMFrag; ++m) {
                    M::mma(s[m][2 * np], qa[m], kb[0], kb[2]);
                    M::mma(s[m][2 * np + 1], qa[m], kb[1], kb[3]);
                }
            }
        }
        const bool needs_mask = tok0 + attn::kTileTokens - 1 > min_pos;
#pragma unroll
        for (int m = 0; m < kMFrag; ++m) {
#pragma unroll
            for (int nt = 0; nt < kTokTiles; ++nt) {
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int key = tok0 + nt * 8 + quad_col + (e & 1);
                    const bool visible = !needs_mask || key <= row_pos[m][e >> 1];
                    s[m][nt][e] = visible ? s[m][nt][e] * scale_log2 : -INFINITY;
                }
            }
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                float mx = -INFINITY;
#pragma unroll
                for (int nt = 0; nt < kTokTiles; ++nt) mx = fmaxf(mx, fmaxf(s[m][nt][2 * r], s[m][nt][2 * r + 1]));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                const float m_new = fmaxf(row_m[m][r], mx);
                const float ref = attn::safe_ref(m_new);
                const float alpha = exp2f(row_m[m][r] - ref);
                row_m[m][r] = m_new;
                float sum = 0.f;
#pragma unroll
                for (int nt = 0; nt < kTokTiles; ++nt) {
                    s[m][nt][2 * r] = exp2f(s[m][nt][2 * r] - ref);
                    s[m][nt][2 * r + 1] = exp2f(s[m][nt][2 * r + 1] - ref);
                    sum += s[m][nt][2 * r] + s[m][nt][2 * r + 1];
                }
                row_l[m][r] = row_l[m][r] * alpha + sum;
#pragma unroll
                for (int n = 0; n < kDimTiles; ++n) {
                    o[m][n][2 * r] *= alpha;
                    o[m][n][2 * r + 1] *= alpha;
                }
            }
        }
#pragma unroll
        for (int kt = 0; kt < attn::kTileTokens / 16; ++kt) {
            uint32_t pa[kMFrag][4];
#pragma unroll
            for (int m = 0; m < kMFrag; ++m) {
                pa[m][0] = M::pack(s[m][2 * kt][0], s[m][2 * kt][1]);
                pa[m][1] = M::pack(s[m][2 * kt][2], s[m][2 * kt][3]);
                pa[m][2] = M::pack(s[m][2 * kt + 1][0], s[m][2 * kt + 1][1]);
                pa[m][3] = M::pack(s[m][2 * kt + 1][2], s[m][2 * kt + 1][3]);
            }
#pragma unroll
            for (int nd = 0; nd < HEAD_DIM / 16; ++nd) {
                uint32_t vb[4];
                attn::ldmatrix_x4_trans(vb, sv + (kt * 16 + ld_row) * kStride + nd * 16 + ld_col);
#pragma unroll
                for (int m = 0; m < kMFrag; ++m) {
                    M::mma(o[m][2 * nd], pa[m], vb[0], vb[1]);
                    M::mma(o[m][2 * nd + 1], pa[m], vb[2], vb[3]);
                }
            }
        }
    }
    attn::cp_async_wait<0>();

    // Normalise and stage the warp's output rows in its own slice of the query buffer (only this warp
    // reads that slice), then store them with 16-byte writes.
    T* so = sq + warp * kWarpRows * kStride;
#pragma unroll
    for (int m = 0; m < kMFrag; ++m) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            float l = row_l[m][r];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            const float inv_l = l > 0.f ? 1.f / l : 0.f;
            const int rr = m * 16 + quad_row + 8 * r;
#pragma unroll
            for (int n = 0; n < kDimTiles; ++n) {
                *reinterpret_cast<uint32_t*>(so + rr * kStride + n * 8 + quad_col) =
                    M::pack(o[m][n][2 * r] * inv_l, o[m][n][2 * r + 1] * inv_l);
            }
        }
    }
    __syncwarp();
    for (int i = lane; i < kWarpRows * kQChunks; i += 32) {
        const int rr = i / kQChunks;
        const int chunk = i % kQChunks;
        const int row = row0 + warp * kWarpRows + rr;
        if (row >= num_rows) continue;
        const int64_t token = q_start + row / group;
        T* dst = out + (token * num_q_heads + (int64_t)kv_head * group + row % group) * HEAD_DIM +
                 chunk * (16 / sizeof(T));
        *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(so + rr * kStride + chunk * (16 / sizeof(T)));
    }
}

template <typename T, int HEAD_DIM>
int32_t launch_prefill(void* out, const void* q, const void* k_cache, const void* v_cache,
                       const int32_t* block_tables, const int32_t* cu_query_lens, const int32_t* context_lens,
                       int num_seqs, int num_q_heads, int num_kv_heads, int block_shift, bool hnd,
                       int max_blocks_per_seq,
                       int max_query_len, float scale, cudaStream_t stream) {
    constexpr size_t smem = prefill_smem_bytes<T, HEAD_DIM>();
    auto kernel = paged_prefill_kernel<T, HEAD_DIM>;
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (err != cudaSuccess) {
        return fail(FOLIO_CUDA_STATUS_CUDA_ERROR, "paged_prefill: cannot reserve %zu bytes of shared memory: %s", smem,
                    cudaGetErrorString(err));
    }
    const int group = num_q_heads / num_kv_heads;
    const int64_t row_tiles = ((int64_t)max_query_len * group + kPrefillRows - 1) / kPrefillRows;
    dim3 grid((unsigned)row_tiles, num_kv_heads, num_seqs);
    kernel<<<grid, kPrefillThreads, smem, stream>>>(
        static_cast<T*>(out), static_cast<const T*>(q), static_cast<const T*>(k_cache),
        static_cast<const T*>(v_cache), block_tables, cu_query_lens, context_lens, num_q_heads, num_kv_heads,
        block_shift, hnd, max_blocks_per_seq, scale * 1.4426950408889634f);
    return check_launch("paged_prefill");
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_paged_prefill(const folio_cuda_paged_kv* cache, const folio_cuda_paged_prefill_params* p,
                                       void* stream) {
    int32_t status = folio::check_struct_size(p, sizeof(folio_cuda_paged_prefill_params), "paged_prefill");
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    folio::PagedKvShape shape;
    status = folio::check_paged_kv(cache, "paged_prefill", &shape);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    const int32_t num_seqs = p->num_seqs, num_q_heads = p->num_q_heads, num_kv_heads = cache->num_kv_heads;
    const int32_t head_dim = cache->head_dim, dtype = cache->dtype;
    FOLIO_REQUIRE(num_seqs >= 0, "paged_prefill: num_seqs must be >= 0 (got %d)", num_seqs);
    FOLIO_REQUIRE(num_q_heads > 0 && num_q_heads % num_kv_heads == 0,
                  "paged_prefill: num_q_heads (%d) must be a positive multiple of num_kv_heads (%d)", num_q_heads,
                  num_kv_heads);
    FOLIO_REQUIRE(p->max_query_len >= 0, "paged_prefill: max_query_len must be >= 0 (got %d)", p->max_query_len);
    FOLIO_REQUIRE(p->reserved == 0, "paged_prefill: reserved must be 0 (got %d)", p->reserved);
    if (head_dim != 64 && head_dim != 128) {
        return folio::fail(FOLIO_CUDA_STATUS_UNSUPPORTED, "paged_prefill: head_dim %d is not supported (64 or 128)",
                           head_dim);
    }
    if (dtype != FOLIO_CUDA_DTYPE_F16 && dtype != FOLIO_CUDA_DTYPE_BF16) {
        return folio::fail(FOLIO_CUDA_STATUS_UNSUPPORTED,
                           "paged_prefill: dtype %d is not supported (fp16 = 0 or bf16 = 1)", dtype);
    }
    int32_t kernel = 0;
    status = folio::choose_prefill_kernel(p->kernel, head_dim, p->scale, dtype, &kernel);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    if (num_seqs == 0 || p->max_query_len == 0) return folio::ok();
    FOLIO_REQUIRE(num_seqs <= 65535, "paged_prefill: num_seqs %d exceeds 65535", num_seqs);
    FOLIO_REQUIRE(num_kv_heads <= 65535, "paged_prefill: num_kv_heads %d exceeds 65535", num_kv_heads);
    FOLIO_REQUIRE(p->out && p->q && cache->k_cache && cache->v_cache && p->block_tables && p->cu_query_lens &&
                      p->context_lens,
                  "paged_prefill: out, q, k_cache, v_cache, block_tables, cu_query_lens and context_lens must be "
                  "non-null");
    FOLIO_REQUIRE(p->max_blocks_per_seq > 0, "paged_prefill: max_blocks_per_seq must be > 0 (got %d)",
                  p->max_blocks_per_seq);
    FOLIO_REQUIRE(((uintptr_t)p->q | (uintptr_t)p->out | (uintptr_t)cache->k_cache | (uintptr_t)cache->v_cache) % 16 ==
                      0,
                  "paged_prefill: q, out, k_cache and v_cache must be 16-byte aligned");
    cudaStream_t s = static_cast<cudaStream_t>(stream);
#if FOLIO_HAS_PREFILL_SM90
    // Hopper: the wgmma kernel (paged_prefill_sm90.cuh).
    if (kernel == FOLIO_CUDA_PREFILL_KERNEL_SM90) {
        return folio::prefill_sm90(p->out, p->q, cache->k_cache, cache->v_cache, p->block_tables, p->cu_query_lens,
                                   p->context_lens, num_seqs, num_q_heads, num_kv_heads, head_dim, shape.block_shift,
                                   shape.hnd, p->max_blocks_per_seq, p->max_query_len, p->scale, dtype, s);
    }
#endif
    return folio::dispatch_attention(dtype, head_dim, [&](auto tag, auto dim) {
        return folio::launch_prefill<typename decltype(tag)::type, decltype(dim)::value>(
            p->out, p->q, cache->k_cache, cache->v_cache, p->block_tables, p->cu_query_lens, p->context_lens,
            num_seqs, num_q_heads, num_kv_heads, shape.block_shift, shape.hnd, p->max_blocks_per_seq,
            p->max_query_len, p->scale, s);
    });
}
