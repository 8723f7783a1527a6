// attention_common.cuh: device building blocks shared by the paged attention kernels (decode, prefill).
//
// Both portable kernels (the sm_90a prefill has its own, paged_prefill_sm90.cuh) are flash-attention style
// over tensor cores (mma.sync m16n8k16, sm_80+): a warp owns 16
// query rows, K/V tiles of 64 tokens are gathered from the paged cache into shared memory with cp.async
// (16-byte copies, several tiles in flight), QK^T and PV run on tensor cores, softmax runs in fp32 on the
// accumulator fragments. Only sm_80 instructions are used, so nvcc 11.8 builds the same code for sm_80
// and sm_90.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace folio {
namespace attn {

constexpr int kTileTokens = 64;  // K/V tokens per shared-memory stage
// Shared-memory rows are padded by 16 bytes so that the 8 row addresses of an ldmatrix land in 8
// distinct bank groups (a 256-byte row stride would put them all in one).
constexpr int kRowPadElems = 8;

// Where 16-byte chunk `chunk` of row `row` of a K/V stage lives (in elements of a 2-byte type):
//   padded    rows of HEAD_DIM + kRowPadElems elements, chunks in order;
//   swizzled  rows of HEAD_DIM elements, chunk c of row r at c ^ (r & 7).
// Both keep ldmatrix free of bank conflicts (its 8 row addresses fall in 8 distinct 16-byte bank groups).
// They differ in what the cp.async gather costs: a global 32-byte sector whose two 16-byte halves land in
// two 32-byte units of shared memory is fetched from L2 twice. Padded rows put every other row 16 bytes off
// a 32-byte boundary: 1.5x the L2 sectors and 5% less copy bandwidth (bench/cp_async_probe.cu, H100); the
// swizzle keeps each sector's halves in one unit: 1x. The swizzled layout also needs the stage to start on
// a 32-byte boundary (a static __shared__ variable before the dynamic buffer shifts it by 16 bytes: 2x).
template <int HEAD_DIM, bool SWIZZLE>
struct StageLayout {
    static constexpr int kStride = SWIZZLE ? HEAD_DIM : HEAD_DIM + kRowPadElems;  // elements per row
    static_assert(!SWIZZLE || HEAD_DIM % 64 == 0, "the swizzle permutes groups of 8 chunks of 16 bytes");
    static __device__ __forceinline__ int offset(int row, int chunk) {
        return row * kStride + (SWIZZLE ? chunk ^ (row & 7) : chunk) * 8;
    }
};

template <typename T>
struct MmaType;
template <>
struct MmaType<__half> {
    static __device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<uint32_t*>(&h);
    }
    static __device__ __forceinline__ __half from_float(float x) { return __float2half_rn(x); }
};
template <>
struct MmaType<__nv_bfloat16> {
    static __device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<uint32_t*>(&h);
    }
    static __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
};

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// L2 prefetch size hint of the K/V copies (PTX 7.4, sm_80+; 0 = no hint). A miss then fetches that many
// bytes from DRAM at once instead of the 32-byte sectors the 16-byte copies touch one by one; a warp's copy
// covers 512 contiguous bytes, so the prefetched bytes are always used. Tuning macro (bench/gpu_session.sh
// sweep compares 0, 128 and 256).
#ifndef FOLIO_CP_ASYNC_L2_PREFETCH
#define FOLIO_CP_ASYNC_L2_PREFETCH 128
#endif
#if FOLIO_CP_ASYNC_L2_PREFETCH == 256
#define FOLIO_CP_ASYNC_QUALIFIERS ".L2::256B"
#elif FOLIO_CP_ASYNC_L2_PREFETCH == 128
#define FOLIO_CP_ASYNC_QUALIFIERS ".L2::128B"
#elif FOLIO_CP_ASYNC_L2_PREFETCH == 64
#define FOLIO_CP_ASYNC_QUALIFIERS ".L2::64B"
#elif FOLIO_CP_ASYNC_L2_PREFETCH == 0
#define FOLIO_CP_ASYNC_QUALIFIERS ""
#else
#error "FOLIO_CP_ASYNC_L2_PREFETCH must be 0, 64, 128 or 256"
#endif

// 16-byte global -> shared copy; when !valid the destination is zero-filled and nothing is read (so
// masked tokens hold zeros, never stale NaNs that 0 * NaN would spread).
__device__ __forceinline__ void cp_async_16(void* smem, const void* gmem, bool valid) {
    const int src_bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global" FOLIO_CP_ASYNC_QUALIFIERS " [%0], [%1], 16, %2;\n" ::"r"(
                     smem_addr(smem)),
                 "l"(gmem), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(smem)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* smem) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(smem)));
}

// Element offset of the K (or V) row of `slot` for one KV head, in either cache layout:
//   NHD [num_blocks, block_size, num_kv_heads, head_dim]: a token's heads are adjacent;
//   HND [num_blocks, num_kv_heads, block_size, head_dim]: a block's tokens of one head are adjacent, so a
//   CTA reading one head streams block_size * head_dim contiguous elements per block.
__device__ __forceinline__ int64_t kv_row_offset(int64_t block, int offset_in_block, int block_shift, int kv_head,
                                                 int num_kv_heads, int head_dim, bool hnd) {
    const int64_t row = hnd ? (((block * num_kv_heads + kv_head) << block_shift) + offset_in_block)
                            : (((block << block_shift) + offset_in_block) * num_kv_heads + kv_head);
    return row * head_dim;
}

// Gathers K and V rows for tokens [tok0, tok0 + TILE) of one sequence and KV head into a shared stage laid
// out [TILE][row] (K then V; rows placed by StageLayout). Tokens at or past `limit` are zero-filled (their
// addresses are never formed); block_table is the sequence's row of table_len entries (EAGER_TABLE: read for
// every row, valid or not, clamped to the row). All THREADS threads of the CTA take part: thread t copies 16-byte chunk
// t % kChunks of rows t / kChunks + j * (THREADS / kChunks), a fully unrolled, branch-free loop (the
// address arithmetic is most of the instructions this memory-bound kernel issues).
template <typename T, int HEAD_DIM, int TILE, int THREADS, bool SWIZZLE = false, bool EAGER_TABLE = false>
__device__ __forceinline__ void load_kv_tile(T* sk, T* sv, const T* __restrict__ k_cache,
                                             const T* __restrict__ v_cache,
                                             const int32_t* __restrict__ block_table, int table_len, int tok0,
                                             int limit, int block_shift, int kv_head, int num_kv_heads, bool hnd,
                                             int tid) {
    static_assert(sizeof(T) == 2, "16-byte chunks of 8 elements");
    using L = StageLayout<HEAD_DIM, SWIZZLE>;
    constexpr int kChunks = HEAD_DIM * sizeof(T) / 16;  // 16-byte chunks per row
    constexpr int kRowsPerPass = THREADS / kChunks;
    static_assert(THREADS % kChunks == 0 && TILE % kRowsPerPass == 0, "whole rows per pass");
    const int block_mask = (1 << block_shift) - 1;
    const int chunk = tid % kChunks;
    const int row0 = tid / kChunks;
#pragma unroll
    for (int j = 0; j < TILE / kRowsPerPass; ++j) {
        const int tok = tok0 + row0 + j * kRowsPerPass;
        const bool valid = tok < limit;
        int64_t block;
        if (EAGER_TABLE) {
            // The entry is read whether or not the token is inside the context (the index clamped to this
            // sequence's row of the table), so the read need not wait for the context length: at batch 1 the
            // length, the table and the K/V rows were three memory round trips one after the other. (The
            // mma.sync prefill does not take it: it spills there, and waits for its item's lengths anyway.) A
            // zero-width table, allowed when every context is empty, is never read.
            const int32_t entry = table_len > 0 ? __ldg(block_table + min(tok >> block_shift, table_len - 1)) : 0;
            block = valid ? entry : 0;
        } else {
            block = valid ? __ldg(block_table + (tok >> block_shift)) : 0;
        }
        const int64_t offset =
            kv_row_offset(block, tok & block_mask, block_shift, kv_head, num_kv_heads, HEAD_DIM, hnd) +
            chunk * (16 / sizeof(T));
        const int dst = L::offset(row0 + j * kRowsPerPass, chunk);
        cp_async_16(sk + dst, k_cache + offset, valid);
        cp_async_16(sv + dst, v_cache + offset, valid);
    }
}

// Online-softmax state of the two rows (g and g+8 of the warp's 16) a thread holds in mma fragments.
struct RowState {
    float m[2];  // running max of the scaled scores (log2 domain), -inf before the first key
    float l[2];  // running sum of exp2(score - m) over this thread's columns (reduced across the quad later)
};

// exp2 reference for a row whose max is still -inf: use 0 so that exp2(-inf - 0) = 0, never NaN.
__device__ __forceinline__ float safe_ref(float m) { return m == -INFINITY ? 0.f : m; }

}  // namespace attn
}  // namespace folio
