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

// Where 16-byte chunk `chunk` of row `row` of a K/V stage lives (in elements of a 2-byte type). The layout
// decides two costs: ldmatrix bank conflicts (its 8 row addresses must fall in 8 distinct 16-byte bank
// groups) and how the cp.async gather is split into L2 requests (Nsight Compute counted 1.5x the ideal L2
// sectors with padded rows and 2x with a 16-byte XOR swizzle, while a linear copy keeps 1x; bench/NOTES-kernels.md
// run 16). Layouts (experiment; the decode kernel picks one with FOLIO_DECODE_STAGE_LAYOUT):
//   kPad16  rows padded by 16 bytes, chunks in order (conflict-free ldmatrix);
//   kSwz16  unpadded rows, chunk c of row r at c ^ (r & 7) (conflict-free ldmatrix);
//   kLinear unpadded rows in order (8-way ldmatrix conflicts, a linear copy);
//   kSwz32  unpadded rows, 32-byte pairs of chunks swizzled, pair p of row r at p ^ (r & 3) (2-way conflicts,
//           each 32-byte sector lands whole and in order);
//   kPad32  rows padded by 32 bytes (2-way conflicts, every row 32-byte aligned).
enum StageLayoutKind { kPad16 = 0, kSwz16 = 1, kLinear = 2, kSwz32 = 3, kPad32 = 4 };
template <int HEAD_DIM, int KIND>
struct StageLayout {
    static constexpr int kStride = HEAD_DIM + (KIND == kPad16 ? 8 : KIND == kPad32 ? 16 : 0);  // elements per row
    static __device__ __forceinline__ int offset(int row, int chunk) {
        const int c = KIND == kSwz16   ? chunk ^ (row & 7)
                      : KIND == kSwz32 ? ((((chunk >> 1) ^ (row & 3)) << 1) | (chunk & 1))
                                       : chunk;
        return row * kStride + c * 8;
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
// The same copy without the zero-fill operand, for rows known to be inside the context (experiment of run 17:
// whether the zero-fill form of LDGSTS is what splits the gather's L2 requests).
__device__ __forceinline__ void cp_async_16_full(void* smem, const void* gmem) {
    asm volatile("cp.async.cg.shared.global" FOLIO_CP_ASYNC_QUALIFIERS " [%0], [%1], 16;\n" ::"r"(smem_addr(smem)),
                 "l"(gmem));
}
#ifndef FOLIO_KV_GATHER_MAP
#define FOLIO_KV_GATHER_MAP 0
#endif
#ifndef FOLIO_CP_ASYNC_FULL_TILES
#define FOLIO_CP_ASYNC_FULL_TILES 0
#endif
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
// out [TILE][HEAD_DIM + pad] (K then V). Tokens at or past `limit` are zero-filled and their block-table
// entries are not read. All THREADS threads of the CTA take part: thread t copies 16-byte chunk
// t % kChunks of rows t / kChunks + j * (THREADS / kChunks), a fully unrolled, branch-free loop (the
// address arithmetic is most of the instructions this memory-bound kernel issues).
template <typename T, int HEAD_DIM, int TILE, int THREADS, int LAYOUT = kPad16>
__device__ __forceinline__ void load_kv_tile(T* sk, T* sv, const T* __restrict__ k_cache,
                                             const T* __restrict__ v_cache,
                                             const int32_t* __restrict__ block_table, int tok0, int limit,
                                             int block_shift, int kv_head, int num_kv_heads, bool hnd, int tid) {
    static_assert(sizeof(T) == 2, "16-byte chunks of 8 elements");
    constexpr int kChunks = HEAD_DIM * sizeof(T) / 16;  // 16-byte chunks per row
    using L = StageLayout<HEAD_DIM, LAYOUT>;
    constexpr int kRowsPerPass = THREADS / kChunks;
    static_assert(THREADS % kChunks == 0 && TILE % kRowsPerPass == 0, "whole rows per pass");
    const int block_mask = (1 << block_shift) - 1;
    const int chunk = tid % kChunks;
    const int row0 = tid / kChunks;
    if (FOLIO_CP_ASYNC_FULL_TILES && tok0 + TILE <= limit) {  // every row inside the context: no zero-fill
#pragma unroll
        for (int j = 0; j < TILE / kRowsPerPass; ++j) {
            const int tok = tok0 + row0 + j * kRowsPerPass;
            const int64_t block = __ldg(block_table + (tok >> block_shift));
            const int64_t offset =
                kv_row_offset(block, tok & block_mask, block_shift, kv_head, num_kv_heads, HEAD_DIM, hnd) +
                chunk * (16 / sizeof(T));
            const int dst = L::offset(row0 + j * kRowsPerPass, chunk);
            cp_async_16_full(sk + dst, k_cache + offset);
            cp_async_16_full(sv + dst, v_cache + offset);
        }
        return;
    }
#if FOLIO_KV_GATHER_MAP == 1
    // Experiment (run 18): each copy instruction takes 128-byte pieces of THREADS / 8 rows (8 lanes a piece),
    // as CUTLASS's gathers do, instead of whole rows of 16 lanes.
    constexpr int kPieces = kChunks / 8;  // 128-byte pieces per row
    constexpr int kRowsPerGroup = THREADS / 8;
    static_assert(kChunks % 8 == 0 && TILE % kRowsPerGroup == 0, "whole pieces and row groups");
#pragma unroll
    for (int j = 0; j < TILE / kRowsPerGroup * kPieces; ++j) {
        const int row = tid / 8 + (j / kPieces) * kRowsPerGroup;
        const int piece_chunk = tid % 8 + (j % kPieces) * 8;
        const int tok = tok0 + row;
        const bool valid = tok < limit;
        const int64_t block = valid ? __ldg(block_table + (tok >> block_shift)) : 0;
        const int64_t offset =
            kv_row_offset(block, tok & block_mask, block_shift, kv_head, num_kv_heads, HEAD_DIM, hnd) +
            piece_chunk * (16 / sizeof(T));
        const int dst = L::offset(row, piece_chunk);
        cp_async_16(sk + dst, k_cache + offset, valid);
        cp_async_16(sv + dst, v_cache + offset, valid);
    }
#else
#pragma unroll
    for (int j = 0; j < TILE / kRowsPerPass; ++j) {
        const int tok = tok0 + row0 + j * kRowsPerPass;
        const bool valid = tok < limit;
        const int64_t block = valid ? __ldg(block_table + (tok >> block_shift)) : 0;
        const int64_t offset =
            kv_row_offset(block, tok & block_mask, block_shift, kv_head, num_kv_heads, HEAD_DIM, hnd) +
            chunk * (16 / sizeof(T));
        const int dst = L::offset(row0 + j * kRowsPerPass, chunk);
        cp_async_16(sk + dst, k_cache + offset, valid);
        cp_async_16(sv + dst, v_cache + offset, valid);
    }
#endif
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
