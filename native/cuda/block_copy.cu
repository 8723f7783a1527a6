// block_copy.cu: see block_copy.cuh.
#include "block_copy.cuh"

#include <cuda_runtime.h>

#include "paged_kv.cuh"
#include "status.cuh"

namespace folio {

__global__ void __launch_bounds__(kBlockMoveThreads)
    block_move_kernel(const uint64_t* __restrict__ src_ptrs, const uint64_t* __restrict__ dst_ptrs,
                      const int32_t* __restrict__ pairs, int32_t src_num_blocks, int32_t dst_num_blocks,
                      int64_t block_vecs) {
    const int64_t pair = blockIdx.x;
    const int cache = blockIdx.y;
    const int32_t src_block = pairs[2 * pair];
    const int32_t dst_block = pairs[2 * pair + 1];
    if (src_block < 0 || src_block >= src_num_blocks || dst_block < 0 || dst_block >= dst_num_blocks) return;
    const uint4* src = reinterpret_cast<const uint4*>(src_ptrs[cache]) + src_block * block_vecs;
    uint4* dst = reinterpret_cast<uint4*>(dst_ptrs[cache]) + dst_block * block_vecs;
    constexpr int64_t kStep = (int64_t)kBlockMoveThreads * kBlockMoveUnroll;
    int64_t i = threadIdx.x;
    for (; i + (kBlockMoveUnroll - 1) * kBlockMoveThreads < block_vecs; i += kStep) {
        uint4 v[kBlockMoveUnroll];
#pragma unroll
        for (int u = 0; u < kBlockMoveUnroll; ++u) v[u] = src[i + u * kBlockMoveThreads];
#pragma unroll
        for (int u = 0; u < kBlockMoveUnroll; ++u) dst[i + u * kBlockMoveThreads] = v[u];
    }
    for (; i < block_vecs; i += kBlockMoveThreads) dst[i] = src[i];
}

int32_t block_move(const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* p, BlockMove kind,
                   cudaStream_t stream) {
    const char* what = kind == BlockMove::Copy ? "block_copy" : kind == BlockMove::SwapOut ? "block_swap_out"
                                                                                         : "block_swap_in";
    int32_t status = check_struct_size(p, sizeof(folio_cuda_block_move_params), what);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    PagedKvShape shape;
    status = check_paged_kv(cache, what, &shape);
    if (status != FOLIO_CUDA_STATUS_OK) return status;
    FOLIO_REQUIRE(p->num_caches >= 0 && p->num_caches <= 65535, "%s: num_caches must be in [0, 65535] (got %d)",
                  what, p->num_caches);
    FOLIO_REQUIRE(p->num_pairs >= 0, "%s: num_pairs must be >= 0 (got %d)", what, p->num_pairs);
    FOLIO_REQUIRE(shape.block_bytes % 16 == 0,
                  "%s: a block (block_size * num_kv_heads * head_dim elements) must be a multiple of 16 bytes (it "
                  "is %lld)",
                  what, (long long)shape.block_bytes);
    if (kind == BlockMove::Copy) {
        // A host pool given to a copy is a call meant for a swap: refuse it rather than ignore it.
        FOLIO_REQUIRE(p->host_ptrs == nullptr && p->host_num_blocks == 0,
                      "block_copy: host_ptrs must be NULL and host_num_blocks 0 (a copy stays in the GPU pool)");
    } else {
        FOLIO_REQUIRE(p->host_num_blocks >= 0, "%s: host_num_blocks must be >= 0 (got %d)", what,
                      p->host_num_blocks);
    }
    if (p->num_caches == 0 || p->num_pairs == 0) return ok();
    FOLIO_REQUIRE(p->cache_ptrs && p->pairs && (kind == BlockMove::Copy || p->host_ptrs),
                  "%s: cache_ptrs and pairs (and a swap's host_ptrs) must be non-null", what);
    const bool out = kind != BlockMove::SwapIn;  // the GPU pool is the source
    const uint64_t* gpu = p->cache_ptrs;
    const uint64_t* host = kind == BlockMove::Copy ? p->cache_ptrs : p->host_ptrs;
    const int32_t host_blocks = kind == BlockMove::Copy ? cache->num_blocks : p->host_num_blocks;
    dim3 grid(p->num_pairs, p->num_caches);
    block_move_kernel<<<grid, kBlockMoveThreads, 0, stream>>>(out ? gpu : host, out ? host : gpu, p->pairs,
                                                              out ? cache->num_blocks : host_blocks,
                                                              out ? host_blocks : cache->num_blocks,
                                                              shape.block_bytes / 16);
    return check_launch(what);
}

}  // namespace folio

extern "C" int32_t folio_block_copy(const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params,
                                    void* stream) {
    return folio::block_move(cache, params, folio::BlockMove::Copy, static_cast<cudaStream_t>(stream));
}
