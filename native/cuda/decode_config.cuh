// decode_config.cuh: the decode kernel's shape (warps, stages, stage layout, split limits), its shared-memory
// size and how many of its CTAs one multiprocessor holds: shared by the kernel (paged_attention_decode.cu) and
// its launch planner (decode_plan.cu).
#pragma once

#include <cuda_fp16.h>
#include <stddef.h>

#include "attention_common.cuh"

namespace folio {
namespace decode {

// CTA shape: each warp takes 16 tokens of every K/V tile, so a tile is 16 * warps tokens; `stages` tiles
// are in flight. The defaults were picked by bench/kernels.py runs (bench/NOTES-kernels.md); the macros
// exist so that a tuning run can build variants.
#ifndef FOLIO_DECODE_WARPS
#define FOLIO_DECODE_WARPS 4
#endif
// Stages: FOLIO_DECODE_STAGES for launches of under two waves (3: 2 CTAs per SM at head_dim 128, two tiles
// in flight per warp), FOLIO_DECODE_STAGES_MANY for launches of two waves or more. Both 3 since the stages are
// aligned (NOTES run 27): 2 stages (3 CTAs per SM, 12 warps) had won 1-3% at many waves while the gather
// fetched 1.5x its L2 sectors (run 11), and lost up to 3% once it did not (GQA 128 x 8k 1456 -> 1415 us with 3).
#ifndef FOLIO_DECODE_STAGES
#define FOLIO_DECODE_STAGES 3
#endif
#ifndef FOLIO_DECODE_STAGES_MANY
#define FOLIO_DECODE_STAGES_MANY 3
#endif
constexpr int kDecodeWarps = FOLIO_DECODE_WARPS;
constexpr int kDecodeThreads = kDecodeWarps * 32;
constexpr int kStagesFew = FOLIO_DECODE_STAGES;
constexpr int kStagesMany = FOLIO_DECODE_STAGES_MANY;
constexpr int kDecodeTile = 16 * kDecodeWarps;
static_assert(kStagesFew >= 2 && kStagesMany >= 2, "the pipeline needs two stages at least");
#ifndef FOLIO_DECODE_WARP_PIPELINE
#define FOLIO_DECODE_WARP_PIPELINE 1
#endif
constexpr bool kWarpPipeline = FOLIO_DECODE_WARP_PIPELINE != 0;
// Stage layout (attention_common.cuh, StageLayout): 1 = swizzled rows (the default: each L2 sector of the
// gather fetched once), 0 = padded rows (1.5x the L2 sectors; bench/NOTES-kernels.md runs 17-18).
#ifndef FOLIO_DECODE_SWIZZLE
#define FOLIO_DECODE_SWIZZLE 1
#endif
constexpr bool kSwizzle = FOLIO_DECODE_SWIZZLE != 0;
template <int HEAD_DIM>
using DecodeLayout = attn::StageLayout<HEAD_DIM, kSwizzle>;
static_assert(attn::kTileTokens % kDecodeTile == 0, "splits are whole 64-token chunks, so whole tiles");
// Eager block-table reads (NOTES run 24): the prologue's table entries are read without waiting for the context
// length (attention_common.cuh, load_kv_tile); 0 = the reads wait for it.
#ifndef FOLIO_DECODE_EAGER_TABLE
#define FOLIO_DECODE_EAGER_TABLE 1
#endif
constexpr bool kEagerTable = FOLIO_DECODE_EAGER_TABLE != 0;
// A split shorter than this costs more in overhead than it gains (tuning macro).
#ifndef FOLIO_DECODE_MIN_SPLIT_TOKENS
#define FOLIO_DECODE_MIN_SPLIT_TOKENS 128
#endif
constexpr int kMinSplitTokens = FOLIO_DECODE_MIN_SPLIT_TOKENS;
static_assert(kMinSplitTokens > 0, "FOLIO_DECODE_MIN_SPLIT_TOKENS must be positive");
constexpr int kMaxSplits = 128;
constexpr int kMaxGroup = 16;  // query heads per KV head: the 16 rows of an mma tile
#ifndef FOLIO_DECODE_WAVES
#define FOLIO_DECODE_WAVES 1
#endif
constexpr int kDecodeWaves = FOLIO_DECODE_WAVES;  // target waves of the old split policy (tuning macro)
// Split policy: 1 = the wave model of plan_decode (default), 0 = split only to about kDecodeWaves waves.
#ifndef FOLIO_DECODE_SPLIT_MODEL
#define FOLIO_DECODE_SPLIT_MODEL 1
#endif
constexpr bool kSplitModel = FOLIO_DECODE_SPLIT_MODEL != 0;

// The last bytes of the dynamic shared memory hold the split-merge flag: a static __shared__ variable would
// shift the dynamic buffer off its 128-byte alignment, and the swizzled stages need it (StageLayout).
constexpr size_t kFlagBytes = 16;
template <typename T, int HEAD_DIM, int STAGES>
__host__ __device__ constexpr size_t decode_smem_bytes() {
    return (size_t)STAGES * 2 * kDecodeTile * DecodeLayout<HEAD_DIM>::kStride * sizeof(T) +
           (size_t)kMaxGroup * DecodeLayout<HEAD_DIM>::kStride * sizeof(T) + kFlagBytes;
}
// Floats between rows of the cross-warp merge's output buffer: 8 banks apart (see the kernel).
__host__ __device__ constexpr int decode_red_stride(int head_dim) { return head_dim + 8; }
static_assert(decode_red_stride(64) % 4 == 0 && decode_red_stride(128) % 4 == 0, "the merge reads rows as float4");
template <int STAGES>
constexpr bool decode_smem_fits_merge() {  // without the flag's bytes, which the merge must not touch
    return decode_smem_bytes<__half, 64, STAGES>() - kFlagBytes >=
               kDecodeWarps * 16 * (decode_red_stride(64) + 2) * sizeof(float) &&
           decode_smem_bytes<__half, 128, STAGES>() - kFlagBytes >=
               kDecodeWarps * 16 * (decode_red_stride(128) + 2) * sizeof(float);
}
static_assert(decode_smem_fits_merge<kStagesFew>() && decode_smem_fits_merge<kStagesMany>(),
              "the cross-warp merge reuses the stages");

// CTAs of this shape one multiprocessor holds (shared memory: 227 KiB, 1 KiB reserved per CTA; threads; registers).
constexpr int decode_ctas_per_sm(int head_dim, int stages) {
    const size_t smem = stages == kStagesFew
                            ? (head_dim == 64 ? decode_smem_bytes<__half, 64, kStagesFew>()
                                              : decode_smem_bytes<__half, 128, kStagesFew>())
                            : (head_dim == 64 ? decode_smem_bytes<__half, 64, kStagesMany>()
                                              : decode_smem_bytes<__half, 128, kStagesMany>());
    const int by_smem = (int)((227u * 1024u) / (smem + 1024u));
    const int by_threads = 2048 / kDecodeThreads;
    // Up to 128 registers a thread at head_dim 64 (nvcc 11.8: 125 since the split merge loads sixteen splits at
    // a time, NOTES run 49; little headroom under the 128 that 4 CTAs per SM allow): more CTAs than the register
    // file holds at that count would make __launch_bounds__ force spills.
    const int by_regs = 65536 / (kDecodeThreads * 128);
    const int by_smem_threads = by_smem < by_threads ? by_smem : by_threads;
    return by_smem_threads < by_regs ? by_smem_threads : by_regs;
}

}  // namespace decode
}  // namespace folio
