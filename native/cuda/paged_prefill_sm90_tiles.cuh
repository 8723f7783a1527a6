// paged_prefill_sm90_tiles.cuh: the parts of the sm_90a prefill kernel (paged_prefill_sm90.cu) that are not
// its pipeline: the shared-memory layout, the work items of the persistent grid, the producer's row copies (K/V
// tiles through the block table, an item's Q rows), and the online softmax on wgmma accumulators. Include only from code
// compiled for compute_90a.
#pragma once

#include <stdint.h>

#include <cmath>

#include "wgmma_sm90.cuh"

namespace folio {
namespace sm90_prefill {

constexpr int kMathWarpgroups = 2;         // consumer warpgroups per CTA (a third one gathers K/V)
constexpr int kThreads = (kMathWarpgroups + 1) * 128;
constexpr int kRows = kMathWarpgroups * 64;  // query rows per item (64 per math warpgroup: the M of wgmma)
constexpr int kTile = 128;                   // keys per K/V tile (the N of S = Q K^T)
constexpr int kStages = 3;                   // K/V tiles in shared memory

// Shared memory (bytes from a 1024-byte-aligned base): Q [panel][kRows rows][128 B] (rows cw * 64 .. + 63 are
// math warpgroup cw's), then kStages stages of K [panel][kTile rows][128 B] and V [panel][kTile rows][128 B] (a
// panel = 64 head dims, 128-byte swizzled: wgmma_sm90.cuh), then the mbarriers full_k, full_v, empty_k, empty_v
// [kStages] each, q_full and q_empty, then the Item whose Q the Q panels hold.
template <int HEAD_DIM>
struct Smem {
    static constexpr int kPanels = HEAD_DIM / 64;
    static constexpr uint32_t kQPanelBytes = kRows * 128;
    static constexpr uint32_t kQBytes = kPanels * kQPanelBytes;
    static constexpr uint32_t kKVPanelBytes = kTile * 128;
    static constexpr uint32_t kKVBytes = kPanels * kKVPanelBytes;  // K (or V) of one tile
    static constexpr uint32_t kStageBytes = 2 * kKVBytes;
    static constexpr uint32_t kBytes = kQBytes + kStages * kStageBytes;
    static constexpr uint32_t kBarrierBytes = (4 * kStages + 2) * 8;
    static constexpr uint32_t kItemOffset = kBytes + kBarrierBytes;
    static constexpr size_t kAlloc = kItemOffset + 64 + 1024;  // + the Item, + slack to align the base to 1024 B
};
static_assert(Smem<128>::kAlloc <= 232448, "the d128 CTA must fit the 227 KB opt-in shared memory");

// One unit of work: 128 rows of one (sequence, KV head) and the keys they see. The producer hands each item to
// the math warpgroups through shared memory with its Q; num_tiles = 0 there means no items are left.
struct Item {
    int kv_head, row0, num_rows, group, q_start, first_pos, kv_end, min_pos, num_tiles;
    const int32_t* block_table;
};
static_assert(sizeof(Item) <= 64, "the Item slot in shared memory");

// An item's row (row / group: its query token, row % group: the query head within the KV head's group) as a row
// of the [token][query head] Q and output tensors. Q's copy and the output store both go through it.
__device__ __forceinline__ int64_t item_row(const Item& item, int row, int num_q_heads) {
    return (int64_t)(item.q_start + row / item.group) * num_q_heads + (item.kv_head * item.group + row % item.group);
}

// Work item `index` (index = row tiles x num_kv_heads x num_seqs, row tiles fastest and latest rows first, so
// the CTAs running at one time share one sequence's K/V in L2). False: no rows there (a shorter sequence).
__device__ __forceinline__ bool decode_item(int64_t index, int row_tiles, int num_q_heads, int num_kv_heads,
                                            const int32_t* __restrict__ cu_query_lens,
                                            const int32_t* __restrict__ context_lens,
                                            const int32_t* __restrict__ block_tables, int max_blocks_per_seq,
                                            Item& it) {
    const int row_tile = row_tiles - 1 - (int)(index % row_tiles);
    const int64_t pair = index / row_tiles;
    it.kv_head = (int)(pair % num_kv_heads);
    const int seq = (int)(pair / num_kv_heads);
    it.group = num_q_heads / num_kv_heads;
    it.q_start = cu_query_lens[seq];
    const int q_len = cu_query_lens[seq + 1] - it.q_start;
    it.num_rows = q_len * it.group;
    it.row0 = row_tile * kRows;
    if (it.row0 >= it.num_rows) return false;
    it.first_pos = context_lens[seq] - q_len;  // position of the first new token
    it.block_table = block_tables + (int64_t)seq * max_blocks_per_seq;
    // Keys this item needs: up to the position of its last row's token.
    const int last_row = min(it.row0 + kRows, it.num_rows) - 1;
    it.kv_end = it.first_pos + last_row / it.group + 1;
    it.min_pos = it.first_pos + it.row0 / it.group;  // tiles wholly at or below this need no mask
    it.num_tiles = max(1, (it.kv_end + kTile - 1) / kTile);
    return true;
}

// Where this producer thread's four rows of a 128-row tile come from: row tid / 4 + 32 j at src + off[j] (bytes;
// 0 for a row to zero-fill), valid if bit j of `valid` is set.
struct TileRows {
    int64_t off[4];
    unsigned valid;
};

// The producer warpgroup (thread tid of 128) copies the 128 rows of HEAD_DIM 16-bit elements that `rows` names
// into the swizzled panels at shared address dst (panel stride kPanelBytes, row r at r * 128) with 16-byte
// cp.async copies; an invalid row is zero-filled, naming src without reading it. Four threads share a row
// (thread tid: rows tid / 4 + 32 j, chunks tid % 4 + 4 i), so that a warp's copy covers 8 rows x 64 contiguous
// bytes (whole sectors), and a thread's copies of a row go out from one pointer with constant offsets: about
// three instructions besides the HEAD_DIM / 32 copies per row. (The producer has one warp per SMSP and takes
// issue slots from the math warps beside it: a gather of ~1080 instructions per K+V tile cost 21-38%, runs I-J;
// sharing a tile's row lookups between K and V gained 2-4%, run 31; run 32 trims the per-row selects.)
template <int HEAD_DIM, uint32_t kPanelBytes>
__device__ __forceinline__ void copy_rows(uint32_t dst, const char* src, const TileRows& rows, int tid) {
    static_assert(kTile == 128 && kRows == 128, "four rows per producer thread");
    const int q = tid % 4;
    const int r0 = tid / 4;
    // Chunk c = q + 4 i of row r lands at panel c / 8, position (c % 8) ^ (r % 8); r % 8 is the same for every
    // row of this thread (rows 32 apart), so two positions serve all its copies (the rows' 4096-byte steps
    // leave the XOR's bit alone, so both are base + constant).
    const uint32_t d0 = dst + (uint32_t)r0 * 128 + (uint32_t)((q ^ (r0 & 7)) << 4);
    const uint32_t d1 = d0 ^ 64u;
    const char* from = src + q * 16;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const char* row = from + rows.off[j];
        const bool valid = (rows.valid >> j) & 1u;
        const uint32_t step = (uint32_t)(j * 32 * 128);
        sm90::cp_async_16_at<0>(d0 + step, row, valid);
        sm90::cp_async_16_at<64>(d1 + step, row, valid);
        if constexpr (HEAD_DIM == 128) {
            sm90::cp_async_16_at<128>(d0 + step + kPanelBytes, row, valid);
            sm90::cp_async_16_at<192>(d1 + step + kPanelBytes, row, valid);
        }
    }
}

// This producer thread's four rows of K/V tile t of `item`, in either cache (K and V share their layout, so one
// lookup serves both); tokens at or past kv_end are invalid. The entry index is clamped so that all four
// block-table loads are unconditional and go out together.
template <int HEAD_DIM>
__device__ __forceinline__ TileRows tile_rows(const Item& item, int t, int block_shift, int num_kv_heads, bool hnd,
                                              int tid) {
    const int block_mask = (1 << block_shift) - 1;
    const int rows_per_block = num_kv_heads << block_shift;
    int block[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const int tok = t * kTile + tid / 4 + 32 * j;
        block[j] = __ldg(item.block_table + (max(0, min(tok, item.kv_end - 1)) >> block_shift));
    }
    TileRows rows{};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const int tok = t * kTile + tid / 4 + 32 * j;
        const int o = tok & block_mask;
        const int inner = hnd ? (item.kv_head << block_shift) + o : o * num_kv_heads + item.kv_head;
        const bool valid = tok < item.kv_end;
        rows.off[j] = valid ? ((int64_t)block[j] * rows_per_block + inner) * (HEAD_DIM * 2) : 0;
        rows.valid |= (unsigned)valid << j;
    }
    return rows;
}

// This producer thread's four rows of the item's Q: row r of the item is token (row0 + r) / group of the
// sequence, query head kv_head x group + (row0 + r) % group; rows past the sequence's are invalid.
template <int HEAD_DIM>
__device__ __forceinline__ TileRows q_rows(const Item& item, int num_q_heads, int tid) {
    TileRows rows{};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const int row = item.row0 + tid / 4 + 32 * j;
        const bool valid = row < item.num_rows;
        rows.off[j] = valid ? item_row(item, row, num_q_heads) * (HEAD_DIM * 2) : 0;
        rows.valid |= (unsigned)valid << j;
    }
    return rows;
}

// Online softmax of one tile's scores s[kTile / 2] (the m64n128 accumulator fragment of this thread: rows g and
// g + 8 of its warp's 16, columns 8 j + col0 + {0, 1}), first key tok0: masks keys past each row's position
// (row_pos; -1 = a row past the sequence, which sees no key) on tiles that reach past min_pos, turns s into P
// (fp32, exp2 domain: scale_log2 = scale * log2 e), updates the running max m and sum l, and returns in alpha
// the factor the output accumulators must be scaled by. Both rows go phase by phase, each row's max and sum as
// four independent chains (eight in all).
template <int N>
__device__ __forceinline__ void online_softmax(float (&s)[N], float (&m)[2], float (&l)[2], float (&alpha)[2],
                                               const int (&row_pos)[2], int tok0, int min_pos, int col0,
                                               float scale_log2) {
    if (tok0 + kTile - 1 > min_pos) {
#pragma unroll
        for (int j = 0; j < N / 4; ++j) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                if (tok0 + 8 * j + col0 + (e & 1) > row_pos[e >> 1]) s[4 * j + e] = -INFINITY;
            }
        }
    }
    // Both rows at once, phase by phase (row max, the two shuffles, the new reference, the exponentials and
    // sums), so that each phase has twice the independent chains to issue from (run 40).
    float mx[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float m4[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
#pragma unroll
        for (int j = 0; j < N / 4; ++j) m4[j % 4] = fmaxf(m4[j % 4], fmaxf(s[4 * j + 2 * h], s[4 * j + 2 * h + 1]));
        mx[h] = fmaxf(fmaxf(m4[0], m4[1]), fmaxf(m4[2], m4[3]));
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
#pragma unroll
    for (int h = 0; h < 2; ++h) mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
    float neg_ref[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const float m_new = fmaxf(m[h], mx[h] * scale_log2);  // scale > 0: max commutes with it
        const float ref = m_new == -INFINITY ? 0.f : m_new;    // a row with no key yet: exp2(-inf) = 0
        alpha[h] = sm90::ex2(m[h] - ref);
        m[h] = m_new;
        neg_ref[h] = -ref;
    }
    float s4[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
    for (int j = 0; j < N / 4; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            s[4 * j + e] = sm90::ex2(fmaf(s[4 * j + e], scale_log2, neg_ref[e >> 1]));
        }
#pragma unroll
        for (int h = 0; h < 2; ++h) s4[h][j % 4] += s[4 * j + 2 * h] + s[4 * j + 2 * h + 1];
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) l[h] = l[h] * alpha[h] + ((s4[h][0] + s4[h][1]) + (s4[h][2] + s4[h][3]));
}

}  // namespace sm90_prefill
}  // namespace folio
