// paged_prefill_sm90.cuh: the Hopper (sm_90a) path of folio_paged_prefill: the same attention (causal, new
// query tokens over the cached prefix plus themselves, variable lengths in one launch, the rows of a GQA group
// in one CTA) on warpgroup matrix instructions (wgmma) instead of mma.sync.
//
// Built only when the CUDA compiler is 12.0 or newer and sm_90 is among the target architectures (CMake adds
// native/cuda/paged_prefill_sm90.cu compiled for compute_90a and defines FOLIO_HAS_PREFILL_SM90). At run time
// folio_paged_prefill takes it on a compute-capability 9.0 device for head_dim 64 or 128, fp16 or bf16, either
// cache layout, a positive finite scale; everything else runs the mma.sync kernel (paged_prefill.cu).
// The caller chooses through folio_cuda_paged_prefill_params.kernel: SM80 forces the mma.sync kernel (for
// same-run comparisons), SM90 asks for this one (refused where it does not apply), AUTO takes it where it applies
// unless the build's FOLIO_PREFILL_SM90_DEFAULT is 0.
//
// Work split: an item is 128 query rows of one (sequence, KV head), a row being a (token, query head of the
// group) pair. A CTA (one per SM, persistent: it walks the items, row tiles fastest, latest rows first) has three
// warpgroups. A producer decodes the items, hands each one over through shared memory with its Q rows (a
// q_full / q_empty mbarrier pair, so the next item's Q lands while the current one is worked on), and gathers
// K/V tiles of 128 tokens through the block table with 16-byte cp.async copies into 128-byte-swizzled shared
// memory (three stages; K and V each have a full and an empty mbarrier per stage, K going back as soon as its
// Q K^T is done; one block-table lookup per tile serves K and V). Two math warpgroups of 64 rows each (the M of
// wgmma) take the registers the producer gives up (setmaxnreg) and run one pipeline across items: each step
// issues S = Q K^T of the CTA's next tile, whichever item it belongs to (Q from registers, K from shared memory),
// rescales O while it runs, issues O += P V of the current tile (P from registers as bf16/fp16, V read MN-major
// from the same swizzled tile), then runs the fp32 online softmax of the next tile under that P V and stores an
// item's rows once its last P V is done. The two warpgroups take turns at the issues (ping-pong named barriers)
// so that one's softmax also runs under the other's wgmmas. The variants measured on the way (no producer
// warpgroup, 64-key tiles, one CTA per item, TMA loads, ...) are in bench/NOTES-kernels.md, the older ones' code
// in commit f0c1a9f.
#pragma once

#include <cuda_runtime.h>
#include <stdint.h>

namespace folio {

// Whether FOLIO_CUDA_PREFILL_KERNEL_AUTO takes this kernel where it applies: the build's FOLIO_PREFILL_SM90_DEFAULT
// (on unless CMake sets it to 0). Where it applies is paged_prefill.cu's rule (choose_prefill_kernel).
bool prefill_sm90_by_default();

// Launches the sm_90a kernel. Arguments as folio_paged_prefill after its validation (dtype 0 = fp16,
// 1 = bf16; head_dim 64 or 128; block_shift = log2(block_size)).
int32_t prefill_sm90(void* out, const void* q, const void* k_cache, const void* v_cache,
                     const int32_t* block_tables, const int32_t* cu_query_lens, const int32_t* context_lens,
                     int num_seqs, int num_q_heads, int num_kv_heads, int head_dim, int block_shift, bool hnd,
                     int max_blocks_per_seq, int max_query_len, float scale, int dtype, cudaStream_t stream);

}  // namespace folio
