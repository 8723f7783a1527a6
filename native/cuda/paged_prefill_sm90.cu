// paged_prefill_sm90.cu: the sm_90a (wgmma) prefill kernel; see paged_prefill_sm90.cuh for the design and
// wgmma_sm90.cuh for the shared-memory layout. Compiled only for compute_90a (CMake).
#include "paged_prefill_sm90.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdlib.h>
#include <string.h>

#include <cmath>
#include <type_traits>

#include "folio_cuda.h"
#include "status.cuh"
#include "wgmma_sm90.cuh"

#ifndef FOLIO_PREFILL_SM90_DEFAULT
#define FOLIO_PREFILL_SM90_DEFAULT 1
#endif
#ifndef FOLIO_PREFILL_SM90_WS_DEFAULT
#define FOLIO_PREFILL_SM90_WS_DEFAULT 1
#endif
// 1: the warp-specialised kernel also runs the softmax of tile t+1 under P V of tile t (as the other variant
// does); 0: it waits for P V first. 0 measured 2% faster (run D, bench/NOTES-kernels.md): the ping-pong
// already overlaps one warpgroup's softmax with the other's wgmmas.
#ifndef FOLIO_PREFILL_SM90_WS_OVERLAP
#define FOLIO_PREFILL_SM90_WS_OVERLAP 0
#endif
// Where the cp.async -> wgmma proxy fence runs in the warp-specialised kernel. 1: in the producer, after its
// copies of a tile landed (cp.async.wait_group) and before it arrives on full[stage]; 0: in every math thread
// after its wait on full[stage] (a MEMBAR.ALL.CTA per tile on the math warps' path), the producer's arrival then
// being the asynchronous cp.async.mbarrier.arrive.
// 0 measured 7% faster (run E): the producer's wait for each tile leaves one tile in flight instead of three.
#ifndef FOLIO_PREFILL_SM90_PRODUCER_FENCE
#define FOLIO_PREFILL_SM90_PRODUCER_FENCE 0
#endif
// Measurement only, never the default: 0 leaves out the math threads' proxy fence after full[stage] (as some
// public Hopper kernels do for cp.async-filled tiles); the PTX memory model asks for a generic -> async proxy
// fence between the copies and the wgmma reads, so 0 is not known to be safe.
#ifndef FOLIO_PREFILL_SM90_CONSUMER_FENCE
#define FOLIO_PREFILL_SM90_CONSUMER_FENCE 1
#endif
// 1: the softmax's row max and row sum run as four independent chains each (shorter dependency chains; within
// noise in run H, kept as the configuration that run tested).
#ifndef FOLIO_PREFILL_SM90_TREE
#define FOLIO_PREFILL_SM90_TREE 1
#endif
// 1: a warp skips rescaling O when no row of it saw a new maximum (alpha == 1 for all its rows). Off: no gain
// measured (run E, within noise).
#ifndef FOLIO_PREFILL_SM90_SKIP_RESCALE
#define FOLIO_PREFILL_SM90_SKIP_RESCALE 0
#endif
// Keys per K/V tile: 128 (3 stages in shared memory) or 64 (6 stages: the same bytes, but the math warpgroups
// hold 2 x 32 KB instead of 2 x 64 KB, so twice as many bytes are in flight ahead of them).
#ifndef FOLIO_PREFILL_SM90_TILE
#define FOLIO_PREFILL_SM90_TILE 128
#endif
#ifndef FOLIO_PREFILL_SM90_PERSISTENT_DEFAULT
#define FOLIO_PREFILL_SM90_PERSISTENT_DEFAULT 1
#endif

namespace folio {
namespace {

constexpr int kWarpgroups = 2;           // consumer (math) warpgroups per CTA
constexpr int kRows = kWarpgroups * 64;  // query rows per CTA (64 per warpgroup: the M of wgmma)
constexpr int kTile = FOLIO_PREFILL_SM90_TILE;  // keys per K/V tile (the N of S = Q K^T)
constexpr int kStages = kTile == 64 ? 6 : 3;   // K/V tiles in shared memory
static_assert(kTile == 64 || kTile == 128, "tiles of 64 or 128 keys");
// Warp-specialised variant (WS): a third warpgroup gathers the K/V tiles and hands them over on mbarriers;
// registers move from it to the two math warpgroups (setmaxnreg), whose wgmma issues alternate (ping-pong).
// Registers of the producer warpgroup (setmaxnreg); 56 (224 for the math threads) measured 1-2% faster than 40
// (232) in runs G and H.
#ifndef FOLIO_PREFILL_SM90_PRODUCER_REGS
#define FOLIO_PREFILL_SM90_PRODUCER_REGS 56
#endif
constexpr int kProducerRegs = FOLIO_PREFILL_SM90_PRODUCER_REGS;
// What is left of the 64K registers for the 256 math threads, a multiple of 8 (232 beside a 40-register producer).
constexpr int kConsumerRegs = ((65536 - kProducerRegs * 128) / 256) / 8 * 8 > 256
                                  ? 256
                                  : ((65536 - kProducerRegs * 128) / 256) / 8 * 8;
static_assert(kProducerRegs % 8 == 0 && kProducerRegs >= 24 && kConsumerRegs >= 216, "setmaxnreg budgets");

template <bool WS>
__host__ __device__ constexpr int threads_of() { return (WS ? kWarpgroups + 1 : kWarpgroups) * 128; }

// Shared memory (bytes from a 1024-byte-aligned base): Q [warpgroup][panel][64 rows][128 B], then kStages
// stages of K [panel][kTile rows][128 B] and V [panel][kTile rows][128 B]; a panel = 64 head dims. Then the
// mbarriers of the WS variant: full[kStages], empty[kStages].
template <int HEAD_DIM>
struct Smem {
    static constexpr int kPanels = HEAD_DIM / 64;
    static constexpr uint32_t kQPanelBytes = 64 * 128;
    static constexpr uint32_t kQWarpgroupBytes = kPanels * kQPanelBytes;
    static constexpr uint32_t kQBytes = kWarpgroups * kQWarpgroupBytes;
    static constexpr uint32_t kKVPanelBytes = kTile * 128;
    static constexpr uint32_t kKVBytes = kPanels * kKVPanelBytes;  // K (or V) of one tile
    static constexpr uint32_t kStageBytes = 2 * kKVBytes;
    static constexpr uint32_t kBytes = kQBytes + kStages * kStageBytes;
    static constexpr uint32_t kBarrierBytes = 2 * kStages * 8;
    static constexpr size_t kAlloc = kBytes + kBarrierBytes + 1024;  // + slack to align the base to 1024 B
};
static_assert(Smem<128>::kAlloc <= 232448, "the d128 CTA must fit the 227 KB opt-in shared memory");

// Element offset of the K (or V) row of a slot, in either cache layout (see folio_cuda.h).
__device__ __forceinline__ int64_t kv_row(int64_t block, int offset_in_block, int block_shift, int kv_head,
                                          int num_kv_heads, bool hnd) {
    return hnd ? (((block * num_kv_heads + kv_head) << block_shift) + offset_in_block)
               : (((block << block_shift) + offset_in_block) * num_kv_heads + kv_head);
}

// Gathers K and V of tokens [tok0, tok0 + kTile) into one stage (swizzled panels); tokens at or past `limit`
// are zero-filled without reading their block-table entry. THREADS threads take part (index tid): thread t
// copies 16-byte chunk t % kChunks of rows t / kChunks + j * kRowsPerPass.
template <typename T, int HEAD_DIM, int THREADS>
__device__ __forceinline__ void load_tile(uint32_t sk, uint32_t sv, const T* __restrict__ k_cache,
                                          const T* __restrict__ v_cache, const int32_t* __restrict__ block_table,
                                          int tok0, int limit, int block_shift, int kv_head, int num_kv_heads,
                                          bool hnd, int tid) {
    constexpr int kChunks = HEAD_DIM / 8;
    constexpr int kRowsPerPass = THREADS / kChunks;
    static_assert(kTile % kRowsPerPass == 0 && kRowsPerPass % 8 == 0, "whole rows per pass, same swizzle phase");
    const int chunk = tid % kChunks;
    const int r0 = tid / kChunks;
    const int block_mask = (1 << block_shift) - 1;
    const uint32_t dst0 = (uint32_t)(chunk / 8) * Smem<HEAD_DIM>::kKVPanelBytes + sm90::swizzle128(r0, chunk % 8);
#pragma unroll
    for (int j = 0; j < kTile / kRowsPerPass; ++j) {
        const int tok = tok0 + r0 + j * kRowsPerPass;
        const bool valid = tok < limit;
        const int64_t block = valid ? __ldg(block_table + (tok >> block_shift)) : 0;
        const int64_t offset =
            kv_row(block, tok & block_mask, block_shift, kv_head, num_kv_heads, hnd) * HEAD_DIM + chunk * 8;
        const uint32_t dst = dst0 + (uint32_t)(j * kRowsPerPass * 128);
        sm90::cp_async_16(sk + dst, k_cache + offset, valid);
        sm90::cp_async_16(sv + dst, v_cache + offset, valid);
    }
}

// One unit of work: 128 rows of one (sequence, KV head) and the keys they see.
struct Item {
    int kv_head, row0, num_rows, group, q_start, first_pos, kv_end, min_pos, num_tiles;
    const int32_t* block_table;
};

// Work item `index` (persistent grids: index = row_tiles x num_kv_heads x num_seqs order, row tiles fastest and
// latest rows first, so the CTAs running at one time share one sequence's K/V in L2). False: no rows there.
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

// PERSIST (WS only): gridDim.x CTAs walk the items blockIdx.x, + gridDim.x, ...; the producer runs ahead into
// the next item's tiles while the math warpgroups finish the current one. Otherwise one item per CTA.
template <typename T, int HEAD_DIM, bool WS, bool PERSIST>
__global__ void __launch_bounds__(threads_of<WS>(), 1)
    paged_prefill_sm90_kernel(T* __restrict__ out, const T* __restrict__ q, const T* __restrict__ k_cache,
                              const T* __restrict__ v_cache, const int32_t* __restrict__ block_tables,
                              const int32_t* __restrict__ cu_query_lens, const int32_t* __restrict__ context_lens,
                              int num_q_heads, int num_kv_heads, int block_shift, bool hnd, int max_blocks_per_seq,
                              float scale_log2, int row_tiles, int64_t num_items, int pingpong) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    static_assert(sizeof(T) == 2, "16-bit elements");
    using L = Smem<HEAD_DIM>;
    using W = sm90::Wgmma<T>;
    constexpr int kThreads = threads_of<WS>();
    constexpr int kChunks = HEAD_DIM / 8;     // 16-byte chunks per row
    constexpr int kKSteps = HEAD_DIM / 16;    // k16 steps of Q K^T
    constexpr int kPSteps = kTile / 16;       // k16 steps of P V
    constexpr int kOAcc = HEAD_DIM / 2;       // O accumulators per thread (64 x HEAD_DIM over 128 threads)
    constexpr int kSAcc = kTile / 2;          // S accumulators per thread (64 x kTile over 128 threads)

    extern __shared__ __align__(1024) unsigned char smem_raw[];
    const uint32_t raw_addr = sm90::smem_u32(smem_raw);
    const uint32_t base = (raw_addr + 1023u) & ~1023u;
    unsigned char* base_ptr = smem_raw + (base - raw_addr);
    const uint32_t sq = base;
    const uint32_t skv = base + L::kQBytes;
    const uint32_t bars = base + L::kBytes;  // full[s] at bars + 8 s, empty[s] at bars + 8 (kStages + s)

    static_assert(WS || !PERSIST, "only the warp-specialised kernel is persistent");
    const int tid = threadIdx.x;
    const int lane = tid % 32;
    // Non-persistent grids: blockIdx.x = row tiles (latest first), y = KV head, z = sequence, i.e. item index
    // x + row_tiles (y + num_kv_heads z); CTAs without rows return before any barrier.
    const int64_t first_item =
        PERSIST ? (int64_t)blockIdx.x
                : (int64_t)blockIdx.x + (int64_t)row_tiles * ((int64_t)blockIdx.y + (int64_t)num_kv_heads * blockIdx.z);
    const int64_t item_step = PERSIST ? (int64_t)gridDim.x : num_items;
    if constexpr (!PERSIST) {
        Item probe;
        if (!decode_item(first_item, row_tiles, num_q_heads, num_kv_heads, cu_query_lens, context_lens,
                         block_tables, max_blocks_per_seq, probe))
            return;
    }

    if constexpr (WS) {
        if (tid == 0) {
#pragma unroll
            for (int s = 0; s < kStages; ++s) {
                sm90::mbar_init(bars + 8 * s, 128);                             // the producer's 128 threads
                sm90::mbar_init(bars + 8 * (kStages + s), kWarpgroups * 128);  // every math thread
            }
        }
        __syncthreads();
    }

    // The math of one warpgroup for one item (cw = 0 or 1: rows cw * 64 .. + 63 of the item; ctid = its thread
    // index; it0 = tiles this warpgroup consumed before the item, which names the stages and mbarrier phases).
    auto consume = [&](const Item& item, const int cw, const int ctid, const int64_t it0) {
        const int row0 = item.row0;
        const int num_rows = item.num_rows;
        const int group = item.group;
        const int q_start = item.q_start;
        const int first_pos = item.first_pos;
        const int kv_end = item.kv_end;
        const int min_pos = item.min_pos;
        const int num_tiles = item.num_tiles;
        const int kv_head = item.kv_head;
        const int32_t* block_table = item.block_table;
        // This warpgroup's Q rows -> its shared region (zeros past the sequence's rows).
        const uint32_t sq_wg = sq + cw * L::kQWarpgroupBytes;
        for (int i = ctid; i < 64 * kChunks; i += 128) {
            const int r = i / kChunks;
            const int c = i % kChunks;
            const int row = row0 + cw * 64 + r;
            const bool valid = row < num_rows;
            int64_t offset = 0;
            if (valid) {
                const int64_t token = q_start + row / group;
                offset = (token * num_q_heads + (int64_t)kv_head * group + row % group) * HEAD_DIM;
            }
            sm90::cp_async_16(sq_wg + (uint32_t)(c / 8) * L::kQPanelBytes + sm90::swizzle128(r, c % 8),
                              q + offset + c * 8, valid);
        }
        sm90::cp_async_commit();
        if constexpr (!WS) {
            // The whole CTA gathers the first tiles.
#pragma unroll
            for (int s = 0; s < kStages - 1; ++s) {
                if (s < num_tiles) {
                    const uint32_t st = skv + s * L::kStageBytes;
                    load_tile<T, HEAD_DIM, kThreads>(st, st + L::kKVBytes, k_cache, v_cache, block_table, s * kTile,
                                                     kv_end, block_shift, kv_head, num_kv_heads, hnd, tid);
                }
                sm90::cp_async_commit();
            }
        }

        // Descriptors: start addresses advance by (bytes >> 4) in the low field.
        // Q (A, K-major) of this warpgroup: k-step kk = panel kk / 4, 32 bytes per step inside the panel.
        const uint64_t q_desc0 = sm90::make_desc(sq_wg, 16, 1024);
        // K (B, K-major) of stage 0; V (B, MN-major: leading offset = next 64-dim panel, stride = next 8 tokens).
        const uint64_t k_desc0 = sm90::make_desc(skv, 16, 1024);
        const uint64_t v_desc0 = sm90::make_desc(skv + L::kKVBytes, L::kKVPanelBytes, 1024);

        // This thread's two rows of its warpgroup's 64 (g and g + 8 of its warp's 16) and their causal limits;
        // rows past the sequence see no key (their output is never written).
        const int r_base = (ctid / 32) * 16 + lane / 4;
        int row_pos[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int row = row0 + cw * 64 + r_base + 8 * h;
            row_pos[h] = row < num_rows ? first_pos + row / group : -1;
        }
        const int col0 = 2 * (lane % 4);  // this thread's first column of each 8-column accumulator group

        float s_acc[kSAcc];
        float o_acc[kOAcc];
        uint32_t p_frag[kPSteps][4];
#pragma unroll
        for (int i = 0; i < kSAcc; ++i) s_acc[i] = 0.f;  // (overwritten by the first Q K^T; no undefined inputs)
#pragma unroll
        for (int i = 0; i < kOAcc; ++i) o_acc[i] = 0.f;
        float row_m[2] = {-INFINITY, -INFINITY};
        float row_l[2] = {0.f, 0.f};

        // Tile t in shared memory and visible to the tensor cores. WS: the producer's cp.async copies completed
        // on full[t % kStages]; the proxy fence then orders them before this thread's wgmma reads.
        auto stage_of = [&](const int t) { return (int)((it0 + t) % kStages); };
        auto wait_tile = [&](const int t) {
            if constexpr (WS) {
                sm90::mbar_wait(bars + 8 * stage_of(t), (uint32_t)(((it0 + t) / kStages) & 1));
                if constexpr (!FOLIO_PREFILL_SM90_PRODUCER_FENCE && FOLIO_PREFILL_SM90_CONSUMER_FENCE)
                    sm90::fence_proxy_async_smem();
            }
        };
        if constexpr (WS) {
            sm90::cp_async_wait<0>();  // this thread's Q copies
            sm90::fence_proxy_async_smem();
            sm90::warpgroup_barrier(1 + cw);
            wait_tile(0);
            // Ping-pong: warpgroup 0 issues first; each later issue waits for the other's previous one.
            if (pingpong && cw == 1) sm90::named_barrier_arrive(3, 256);
        } else {
            // Q and tile 0 landed (this thread's copies); the fence hands them to the async proxy, the
            // barrier gathers every thread's.
            sm90::cp_async_wait<kStages - 2>();
            sm90::fence_proxy_async_smem();
            __syncthreads();
        }
        sm90::wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < kKSteps; ++kk) {
            const uint32_t off = (uint32_t)(kk / 4) * L::kQPanelBytes + (uint32_t)(kk % 4) * 32;
            const uint32_t koff = (uint32_t)stage_of(0) * L::kStageBytes + (uint32_t)(kk / 4) * L::kKVPanelBytes +
                                  (uint32_t)(kk % 4) * 32;
            W::qk(s_acc, q_desc0 + (off >> 4), k_desc0 + (koff >> 4), kk > 0);
        }
        sm90::wgmma_commit();
        sm90::wgmma_wait<0>();
        sm90::fence_regs(s_acc);

        // Online softmax of one tile's scores in s_acc (first key tok0): masks keys past each row's position on
        // diagonal tiles, turns s_acc into P (fp32), updates the running max and sum and leaves the factor O
        // must be scaled by in alpha.
        float alpha[2];
        auto softmax = [&](const int tok0) {
            if (tok0 + kTile - 1 > min_pos) {
#pragma unroll
                for (int j = 0; j < kSAcc / 4; ++j) {
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int key = tok0 + 8 * j + col0 + (e & 1);
                        if (key > row_pos[e >> 1]) s_acc[4 * j + e] = -INFINITY;
                    }
                }
            }
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                float mx = -INFINITY;
                if constexpr (FOLIO_PREFILL_SM90_TREE) {
                    // Four independent chains: the softmax runs on one warp per SMSP, so its dependency
                    // chains, not its instruction count, set its length.
                    float m4[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
#pragma unroll
                    for (int j = 0; j < kSAcc / 4; ++j)
                        m4[j % 4] = fmaxf(m4[j % 4], fmaxf(s_acc[4 * j + 2 * h], s_acc[4 * j + 2 * h + 1]));
                    mx = fmaxf(fmaxf(m4[0], m4[1]), fmaxf(m4[2], m4[3]));
                } else {
#pragma unroll
                    for (int j = 0; j < kSAcc / 4; ++j)
                        mx = fmaxf(mx, fmaxf(s_acc[4 * j + 2 * h], s_acc[4 * j + 2 * h + 1]));
                }
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                const float m_new = fmaxf(row_m[h], mx * scale_log2);  // scale > 0: max commutes with it
                const float ref = m_new == -INFINITY ? 0.f : m_new;     // a row with no key yet: exp2(-inf) = 0
                alpha[h] = sm90::ex2(row_m[h] - ref);
                row_m[h] = m_new;
                const float neg_ref = -ref;
                float s4[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
                for (int j = 0; j < kSAcc / 4; ++j) {
                    const float p0 = sm90::ex2(fmaf(s_acc[4 * j + 2 * h], scale_log2, neg_ref));
                    const float p1 = sm90::ex2(fmaf(s_acc[4 * j + 2 * h + 1], scale_log2, neg_ref));
                    s_acc[4 * j + 2 * h] = p0;
                    s_acc[4 * j + 2 * h + 1] = p1;
                    s4[FOLIO_PREFILL_SM90_TREE ? j % 4 : 0] += p0 + p1;
                }
                const float sum = (s4[0] + s4[1]) + (s4[2] + s4[3]);
                row_l[h] = row_l[h] * alpha[h] + sum;
            }
        };
        // P (fp32 in s_acc) -> the A operand of P V: k-step kt covers keys 16 kt .. 16 kt + 15, i.e.
        // accumulator groups 2 kt and 2 kt + 1, in the m16n8k16 A-fragment order.
        auto pack_p = [&]() {
#pragma unroll
            for (int kt = 0; kt < kPSteps; ++kt) {
                p_frag[kt][0] = W::pack(s_acc[8 * kt + 0], s_acc[8 * kt + 1]);
                p_frag[kt][1] = W::pack(s_acc[8 * kt + 2], s_acc[8 * kt + 3]);
                p_frag[kt][2] = W::pack(s_acc[8 * kt + 4], s_acc[8 * kt + 5]);
                p_frag[kt][3] = W::pack(s_acc[8 * kt + 6], s_acc[8 * kt + 7]);
            }
        };
        softmax(0);
        pack_p();

        // One step per K/V tile t, with P of tile t in p_frag and alpha its rescale factor: issue Q K^T of
        // tile t+1 (when MORE) and P V of tile t, then run the softmax of tile t+1 while P V runs. The last
        // step is a separate instantiation so that every wgmma issue and wait sits on an unconditional path,
        // and no wgmma is in flight across the loop's back edge (ptxas otherwise waits early or serializes).
        auto step = [&](const int t, auto more_tag) {
            constexpr bool kMore = decltype(more_tag)::value;
            if constexpr (kMore) {
                if constexpr (WS) {
                    wait_tile(t + 1);
                } else {
                    // Tile t+1 landed everywhere (the groups after it: tiles t+2 .. t+kStages-2); every thread
                    // is past P V of tile t-1, so its stage takes tile t+kStages-1.
                    sm90::cp_async_wait<kStages - 3>();
                    sm90::fence_proxy_async_smem();
                    __syncthreads();
                    if (t + kStages - 1 < num_tiles) {
                        const uint32_t st = skv + ((t + kStages - 1) % kStages) * L::kStageBytes;
                        load_tile<T, HEAD_DIM, kThreads>(st, st + L::kKVBytes, k_cache, v_cache, block_table,
                                                         (t + kStages - 1) * kTile, kv_end, block_shift, kv_head,
                                                         num_kv_heads, hnd, tid);
                    }
                    sm90::cp_async_commit();
                }
            }
            if (!FOLIO_PREFILL_SM90_SKIP_RESCALE || !__all_sync(0xffffffffu, alpha[0] == 1.f && alpha[1] == 1.f)) {
#pragma unroll
                for (int j = 0; j < kOAcc / 4; ++j) {
                    o_acc[4 * j + 0] *= alpha[0];
                    o_acc[4 * j + 1] *= alpha[0];
                    o_acc[4 * j + 2] *= alpha[1];
                    o_acc[4 * j + 3] *= alpha[1];
                }
            }
            if (WS && pingpong) sm90::named_barrier_sync(3 + cw, 256);  // this warpgroup's turn to issue
            sm90::wgmma_fence();
            sm90::fence_regs(p_frag);
            sm90::fence_regs(o_acc);
            if constexpr (kMore) {
                const uint32_t st = (uint32_t)stage_of(t + 1) * L::kStageBytes;
#pragma unroll
                for (int kk = 0; kk < kKSteps; ++kk) {
                    const uint32_t off = (uint32_t)(kk / 4) * L::kQPanelBytes + (uint32_t)(kk % 4) * 32;
                    const uint32_t koff = st + (uint32_t)(kk / 4) * L::kKVPanelBytes + (uint32_t)(kk % 4) * 32;
                    W::qk(s_acc, q_desc0 + (off >> 4), k_desc0 + (koff >> 4), kk > 0);
                }
                sm90::wgmma_commit();
            }
            {
                const uint32_t st = (uint32_t)stage_of(t) * L::kStageBytes;
#pragma unroll
                for (int kt = 0; kt < kPSteps; ++kt)
                    W::pv(o_acc, p_frag[kt], v_desc0 + ((st + kt * 16 * 128) >> 4));
                sm90::wgmma_commit();
            }
            if constexpr (WS) {
                // The other warpgroup's turn. Warpgroup 1 owes no arrival after its last issue (it gave one
                // ahead at the start), so every barrier phase gets exactly 128 + 128 threads.
                if (pingpong && (kMore || cw == 0)) sm90::named_barrier_arrive(3 + (1 - cw), 256);
            }
            if constexpr (kMore) {
                sm90::wgmma_wait<1>();  // Q K^T of tile t+1 done; P V of tile t may still run
                sm90::fence_regs(s_acc);
                // (row_tiles > 0 always holds: the branch only makes the softmax its own basic block, because
                // ptxas hoists the wait below to the top of the block it shares with the softmax, which would
                // serialise the softmax behind P V.)
                if constexpr (!WS || FOLIO_PREFILL_SM90_WS_OVERLAP) {
                    if (row_tiles > 0) softmax((t + 1) * kTile);
                } else {
                    softmax((t + 1) * kTile);
                }
                sm90::fence_regs(s_acc);
            }
            sm90::wgmma_wait<0>();
            sm90::fence_regs(o_acc);
            sm90::fence_regs(p_frag);
            if constexpr (WS) sm90::mbar_arrive(bars + 8 * (kStages + stage_of(t)));  // tile t's stage is free
            if constexpr (kMore) pack_p();
        };
        for (int t = 0; t + 1 < num_tiles; ++t) step(t, std::true_type{});
        step(num_tiles - 1, std::false_type{});

        // Normalise and stage this warpgroup's 64 rows in its own Q region (only its wgmmas read it, all done),
        // chunk c of row r at c ^ (r % 8) (conflict-free stores), then store them with 16-byte writes.
        float inv_l[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            float l = row_l[h];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            inv_l[h] = l > 0.f ? 1.f / l : 0.f;
        }
        constexpr int kRowBytes = HEAD_DIM * 2;
        unsigned char* so = base_ptr + cw * L::kQWarpgroupBytes;
#pragma unroll
        for (int j = 0; j < kOAcc / 4; ++j) {
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int r = r_base + 8 * h;
                *reinterpret_cast<uint32_t*>(so + r * kRowBytes + ((j ^ (r & 7)) << 4) + col0 * 2) =
                    W::pack(o_acc[4 * j + 2 * h] * inv_l[h], o_acc[4 * j + 2 * h + 1] * inv_l[h]);
            }
        }
        sm90::warpgroup_barrier(1 + cw);
        for (int i = ctid; i < 64 * kChunks; i += 128) {
            const int r = i / kChunks;
            const int c = i % kChunks;
            const int row = row0 + cw * 64 + r;
            if (row >= num_rows) continue;
            const int64_t token = q_start + row / group;
            T* dst = out + (token * num_q_heads + (int64_t)kv_head * group + row % group) * HEAD_DIM + c * 8;
            *reinterpret_cast<uint4*>(dst) =
                *reinterpret_cast<const uint4*>(so + r * kRowBytes + ((c ^ (r & 7)) << 4));
        }
        if constexpr (PERSIST) sm90::warpgroup_barrier(1 + cw);  // staged rows read before the next Q lands
    };

    if constexpr (WS) {
        if (tid < 128) {
            // Producer: gather every tile of every item into its stage once the math warpgroups freed it; each
            // thread's copies count on full[stage] as they land.
            sm90::setmaxnreg_dec<kProducerRegs>();
            int64_t it = 0;
            for (int64_t index = first_item; index < num_items; index += item_step) {
                Item item;
                if (!decode_item(index, row_tiles, num_q_heads, num_kv_heads, cu_query_lens, context_lens,
                                 block_tables, max_blocks_per_seq, item))
                    continue;
                for (int t = 0; t < item.num_tiles; ++t, ++it) {
                    const int s = (int)(it % kStages);
                    sm90::mbar_wait(bars + 8 * (kStages + s), (uint32_t)(((it / kStages) & 1) ^ 1));
                    const uint32_t st = skv + s * L::kStageBytes;
                    load_tile<T, HEAD_DIM, 128>(st, st + L::kKVBytes, k_cache, v_cache, item.block_table, t * kTile,
                                                item.kv_end, block_shift, item.kv_head, num_kv_heads, hnd, tid);
                    if constexpr (FOLIO_PREFILL_SM90_PRODUCER_FENCE) {
                        // This thread's copies landed; the fence orders them before the math warpgroups' wgmma
                        // reads, which the release of the arrival and their acquiring wait carry over.
                        sm90::cp_async_commit();
                        sm90::cp_async_wait<0>();
                        sm90::fence_proxy_async_smem();
                        sm90::mbar_arrive(bars + 8 * s);
                    } else {
                        sm90::mbar_arrive_cp_async(bars + 8 * s);
                    }
                }
            }
            sm90::cp_async_wait<0>();
        } else {
            sm90::setmaxnreg_inc<kConsumerRegs>();
            int64_t it = 0;
            for (int64_t index = first_item; index < num_items; index += item_step) {
                Item item;
                if (!decode_item(index, row_tiles, num_q_heads, num_kv_heads, cu_query_lens, context_lens,
                                 block_tables, max_blocks_per_seq, item))
                    continue;
                consume(item, tid / 128 - 1, tid % 128, it);
                it += item.num_tiles;
            }
        }
    } else {
        Item item;
        decode_item(first_item, row_tiles, num_q_heads, num_kv_heads, cu_query_lens, context_lens, block_tables,
                    max_blocks_per_seq, item);
        consume(item, tid / 128, tid % 128, 0);
    }
#else
    // Built for another architecture: never launched there (prefill_sm90_applies checks the device).
    __trap();
#endif
}

// FOLIO_PREFILL_SM90_PINGPONG=0: the two math warpgroups issue their wgmmas without taking turns (tuning).
bool pingpong_enabled() {
    const char* v = getenv("FOLIO_PREFILL_SM90_PINGPONG");
    return !(v && strcmp(v, "0") == 0);
}

template <typename T, int HEAD_DIM, bool WS, bool PERSIST>
int32_t launch(void* out, const void* q, const void* k_cache, const void* v_cache, const int32_t* block_tables,
               const int32_t* cu_query_lens, const int32_t* context_lens, int num_seqs, int num_q_heads,
               int num_kv_heads, int block_shift, bool hnd, int max_blocks_per_seq, int max_query_len, float scale,
               cudaStream_t stream) {
    constexpr size_t smem = Smem<HEAD_DIM>::kAlloc;
    auto kernel = paged_prefill_sm90_kernel<T, HEAD_DIM, WS, PERSIST>;
    cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (err != cudaSuccess) {
        return fail(FOLIO_CUDA_ERROR_CUDA, "paged_prefill (sm_90a): cannot reserve %zu bytes of shared memory: %s",
                    smem, cudaGetErrorString(err));
    }
    const int group = num_q_heads / num_kv_heads;
    const int64_t row_tiles = ((int64_t)max_query_len * group + kRows - 1) / kRows;
    if (row_tiles > INT32_MAX) {
        return fail(FOLIO_CUDA_ERROR_INVALID_ARGUMENT, "paged_prefill: max_query_len %d x group %d is too large",
                    max_query_len, group);
    }
    const int64_t num_items = row_tiles * num_kv_heads * num_seqs;
    dim3 grid((unsigned)row_tiles, num_kv_heads, num_seqs);
    if constexpr (PERSIST) {
        int sms = 0;
        const int32_t status = sm_count(&sms);
        if (status != FOLIO_CUDA_OK) return status;
        grid = dim3((unsigned)(num_items < sms ? num_items : sms), 1, 1);  // one CTA per SM (225 KB each)
    }
    kernel<<<grid, threads_of<WS>(), smem, stream>>>(
        static_cast<T*>(out), static_cast<const T*>(q), static_cast<const T*>(k_cache),
        static_cast<const T*>(v_cache), block_tables, cu_query_lens, context_lens, num_q_heads, num_kv_heads,
        block_shift, hnd, max_blocks_per_seq, scale * 1.4426950408889634f, (int)row_tiles, num_items,
        pingpong_enabled() ? 1 : 0);
    return check_launch("paged_prefill (sm_90a)");
}

template <typename T, int HEAD_DIM>
int32_t launch_variant(void* out, const void* q, const void* k_cache, const void* v_cache,
                       const int32_t* block_tables, const int32_t* cu_query_lens, const int32_t* context_lens,
                       int num_seqs, int num_q_heads, int num_kv_heads, int block_shift, bool hnd,
                       int max_blocks_per_seq, int max_query_len, float scale, cudaStream_t stream) {
    // FOLIO_PREFILL_SM90_WS=0 runs the variant without the producer warpgroup (every thread gathers and
    // computes; one CTA barrier per tile), FOLIO_PREFILL_SM90_PERSISTENT=0 the warp-specialised kernel with one
    // CTA per item, for comparisons.
    const char* ws = getenv("FOLIO_PREFILL_SM90_WS");
    const char* persistent = getenv("FOLIO_PREFILL_SM90_PERSISTENT");
    const bool use_ws = ws ? strcmp(ws, "0") != 0 : FOLIO_PREFILL_SM90_WS_DEFAULT != 0;
    const bool use_persistent =
        persistent ? strcmp(persistent, "0") != 0 : FOLIO_PREFILL_SM90_PERSISTENT_DEFAULT != 0;
    if (!use_ws) {
        return launch<T, HEAD_DIM, false, false>(out, q, k_cache, v_cache, block_tables, cu_query_lens,
                                                 context_lens, num_seqs, num_q_heads, num_kv_heads, block_shift, hnd,
                                                 max_blocks_per_seq, max_query_len, scale, stream);
    }
    return use_persistent
               ? launch<T, HEAD_DIM, true, true>(out, q, k_cache, v_cache, block_tables, cu_query_lens, context_lens,
                                                 num_seqs, num_q_heads, num_kv_heads, block_shift, hnd,
                                                 max_blocks_per_seq, max_query_len, scale, stream)
               : launch<T, HEAD_DIM, true, false>(out, q, k_cache, v_cache, block_tables, cu_query_lens,
                                                  context_lens, num_seqs, num_q_heads, num_kv_heads, block_shift, hnd,
                                                  max_blocks_per_seq, max_query_len, scale, stream);
}

}  // namespace

bool prefill_sm90_applies(int head_dim, float scale) {
    const char* choice = getenv("FOLIO_PREFILL_KERNEL");
    bool wanted = FOLIO_PREFILL_SM90_DEFAULT != 0;
    if (choice && strcmp(choice, "sm80") == 0) wanted = false;
    if (choice && strcmp(choice, "sm90") == 0) wanted = true;
    if (!wanted || (head_dim != 64 && head_dim != 128) || !(scale > 0.f) || !std::isfinite(scale)) return false;
    int device = 0;
    int major = 0;
    int minor = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
        cudaGetLastError();  // leave no sticky error behind for the fallback's launch check
        return false;
    }
    return major == 9 && minor == 0;
}

int32_t prefill_sm90(void* out, const void* q, const void* k_cache, const void* v_cache,
                     const int32_t* block_tables, const int32_t* cu_query_lens, const int32_t* context_lens,
                     int num_seqs, int num_q_heads, int num_kv_heads, int head_dim, int block_shift, bool hnd,
                     int max_blocks_per_seq, int max_query_len, float scale, int dtype, cudaStream_t stream) {
    const bool d128 = head_dim == 128;
    if (dtype == FOLIO_CUDA_DTYPE_BF16) {
        return d128 ? launch_variant<__nv_bfloat16, 128>(out, q, k_cache, v_cache, block_tables, cu_query_lens, context_lens,
                                                 num_seqs, num_q_heads, num_kv_heads, block_shift, hnd,
                                                 max_blocks_per_seq, max_query_len, scale, stream)
                    : launch_variant<__nv_bfloat16, 64>(out, q, k_cache, v_cache, block_tables, cu_query_lens, context_lens,
                                                num_seqs, num_q_heads, num_kv_heads, block_shift, hnd,
                                                max_blocks_per_seq, max_query_len, scale, stream);
    }
    return d128 ? launch_variant<__half, 128>(out, q, k_cache, v_cache, block_tables, cu_query_lens, context_lens, num_seqs,
                                      num_q_heads, num_kv_heads, block_shift, hnd, max_blocks_per_seq, max_query_len,
                                      scale, stream)
                : launch_variant<__half, 64>(out, q, k_cache, v_cache, block_tables, cu_query_lens, context_lens, num_seqs,
                                     num_q_heads, num_kv_heads, block_shift, hnd, max_blocks_per_seq, max_query_len,
                                     scale, stream);
}

}  // namespace folio
