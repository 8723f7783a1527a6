// paged_attention_decode_kernel.cuh: the decode kernel itself (one CTA per (KV head, split, sequence); see
// paged_attention_decode.cuh for the layouts and the work split). Included by paged_attention_decode.cu only,
// inside its anonymous namespace (the kernel and its helpers have internal linkage there).
#pragma once

// One K/V stage: with per-warp pipelines (the default) each warp gathers its own 16 tokens of the tile
// (the rows only it reads); otherwise the whole CTA gathers the tile together.
template <typename T, int HEAD_DIM>
__device__ __forceinline__ void load_stage(T* sk, T* sv, const T* __restrict__ k_cache, const T* __restrict__ v_cache,
                                           const int32_t* __restrict__ block_table, int table_len, int tok0,
                                           int limit, int block_shift, int kv_head, int num_kv_heads, bool hnd,
                                           int tid) {
    if (kWarpPipeline) {
        constexpr int kStride = DecodeLayout<HEAD_DIM>::kStride;
        const int warp = tid / 32;
        attn::load_kv_tile<T, HEAD_DIM, 16, 32, kSwizzle, kEagerTable>(
            sk + warp * 16 * kStride, sv + warp * 16 * kStride, k_cache, v_cache, block_table, table_len,
            tok0 + warp * 16, limit, block_shift, kv_head, num_kv_heads, hnd, tid % 32);
    } else {
        attn::load_kv_tile<T, HEAD_DIM, kDecodeTile, kDecodeThreads, kSwizzle, kEagerTable>(
            sk, sv, k_cache, v_cache, block_table, table_len, tok0, limit, block_shift, kv_head, num_kv_heads, hnd,
            tid);
    }
}

// The minimum-blocks bound holds the registers to what the shared-memory occupancy allows (3 CTAs per SM
// at 2 stages and head_dim 128 need <= 170 registers a thread).
template <typename T, int HEAD_DIM, int STAGES>
__global__ void __launch_bounds__(kDecodeThreads, decode_ctas_per_sm(HEAD_DIM, STAGES))
    paged_attention_decode_kernel(T* __restrict__ out, const T* __restrict__ q, const T* __restrict__ k_cache,
                                  const T* __restrict__ v_cache, const int32_t* __restrict__ block_tables,
                                  const int32_t* __restrict__ context_lens, int num_q_heads, int num_kv_heads,
                                  int block_shift, bool hnd, int max_blocks_per_seq, int chunk_tokens,
                                  float scale_log2, float* __restrict__ partial_out,
                                  float* __restrict__ partial_lse, int32_t* __restrict__ split_counters) {
    using M = attn::MmaType<T>;
    using L = DecodeLayout<HEAD_DIM>;
    constexpr int kStride = L::kStride;
    constexpr int kStageElems = 2 * kDecodeTile * kStride;
    constexpr int kKSteps = HEAD_DIM / 16;
    constexpr int kDimTiles = HEAD_DIM / 8;
    constexpr int kRedStride = decode_red_stride(HEAD_DIM);

    extern __shared__ __align__(128) unsigned char smem_raw[];
    T* smem = reinterpret_cast<T*>(smem_raw);
    T* sq = smem + STAGES * kStageElems;

    const int kv_head = blockIdx.x;
    const int split = blockIdx.y;
    const int num_splits = gridDim.y;
    const int seq = blockIdx.z;
    const int group = num_q_heads / num_kv_heads;
    const int tid = threadIdx.x;
    const int warp = tid / 32;
    const int lane = tid % 32;

    const int len = context_lens[seq];
    const int begin = split * chunk_tokens;
    const int end = min(len, begin + chunk_tokens);
    const int num_tiles = end > begin ? (end - begin + kDecodeTile - 1) / kDecodeTile : 0;
    const int32_t* block_table = block_tables + (int64_t)seq * max_blocks_per_seq;

    // Prologue first, so the K/V loads are in flight while the query rows arrive: the first
    // STAGES - 1 tiles (empty commit groups keep the group count exact).
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        // With eager table reads the prologue does not wait for the context length to know num_tiles either:
        // tiles past the end are all zero-fill copies.
        if (kEagerTable || s < num_tiles) {
            T* sk = smem + s * kStageElems;
            load_stage<T, HEAD_DIM>(sk, sk + kDecodeTile * kStride, k_cache, v_cache, block_table, max_blocks_per_seq,
                                    begin + s * kDecodeTile, end, block_shift, kv_head, num_kv_heads, hnd, tid);
        }
        attn::cp_async_commit();
    }

    // Query rows of this KV head's group; rows past the group are zeros (their scores are never used).
    const T* q_base = q + ((int64_t)seq * num_q_heads + (int64_t)kv_head * group) * HEAD_DIM;
    constexpr int kQChunks = HEAD_DIM * sizeof(T) / 16;
    for (int i = tid; i < kMaxGroup * kQChunks; i += kDecodeThreads) {
        const int row = i / kQChunks;
        const int chunk = i % kQChunks;
        uint4 v = make_uint4(0, 0, 0, 0);
        if (row < group) v = *reinterpret_cast<const uint4*>(q_base + row * HEAD_DIM + chunk * (16 / sizeof(T)));
        *reinterpret_cast<uint4*>(sq + L::offset(row, chunk)) = v;
    }

    __syncthreads();  // the query rows are in shared memory

    // ldmatrix row and 16-byte chunk of this lane inside a 16x16 operand (rows: lanes 0-7 and 8-15; the second
    // chunk for lanes 16-31): operand k of a row is its chunk 2 k + ld_chunk.
    const int ld_row = (lane & 7) + ((lane >> 3) & 1) * 8;
    const int ld_chunk = lane >> 4;
    const int quad_row = lane / 4;       // fragment row g (and g + 8)
    const int quad_col = (lane % 4) * 2; // fragment columns 2t, 2t + 1

    uint32_t qa[kKSteps][4];
#pragma unroll
    for (int kk = 0; kk < kKSteps; ++kk) attn::ldmatrix_x4(qa[kk], sq + L::offset(ld_row, 2 * kk + ld_chunk));

    float o[kDimTiles][4];
#pragma unroll
    for (int n = 0; n < kDimTiles; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
    float row_m[2] = {-INFINITY, -INFINITY};
    float row_l[2] = {0.f, 0.f};

    for (int t = 0; t < num_tiles; ++t) {
        attn::cp_async_wait<STAGES - 2>();
        // Tile t is visible to its readers, and the stage refilled below is no longer read: with per-warp
        // pipelines each warp reads only the rows it copied itself, so a warp barrier is enough and the warps
        // stream independently.
        if (kWarpPipeline) {
            __syncwarp();
        } else {
            __syncthreads();
        }
        {
            const int next = t + STAGES - 1;
            if (next < num_tiles) {
                T* sk = smem + (next % STAGES) * kStageElems;
                load_stage<T, HEAD_DIM>(sk, sk + kDecodeTile * kStride, k_cache, v_cache, block_table,
                                        max_blocks_per_seq, begin + next * kDecodeTile, end, block_shift, kv_head,
                                        num_kv_heads, hnd, tid);
            }
            attn::cp_async_commit();
        }
        const T* sk = smem + (t % STAGES) * kStageElems + warp * 16 * kStride;
        const T* sv = sk + kDecodeTile * kStride;
        const int tok0 = begin + t * kDecodeTile + warp * 16;
        if (tok0 >= end) continue;  // this warp's slice of the last tile is empty

        // S = Q K^T for this warp's 16 tokens: two 8-token n-tiles.
        float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
        for (int kk = 0; kk < kKSteps; ++kk) {
            uint32_t kb[4];
            attn::ldmatrix_x4(kb, sk + L::offset(ld_row, 2 * kk + ld_chunk));
            M::mma(s[0], qa[kk], kb[0], kb[2]);
            M::mma(s[1], qa[kk], kb[1], kb[3]);
        }
        // Scale into the log2 domain and mask tokens past the context.
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int tok = tok0 + nt * 8 + quad_col + (e & 1);
                s[nt][e] = tok < end ? s[nt][e] * scale_log2 : -INFINITY;
            }
        }
        // Online softmax per row (r = 0: row g uses elements 0,1; r = 1: row g + 8 uses 2,3).
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            float mx = fmaxf(fmaxf(s[0][2 * r], s[0][2 * r + 1]), fmaxf(s[1][2 * r], s[1][2 * r + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float m_new = fmaxf(row_m[r], mx);
            const float ref = attn::safe_ref(m_new);
            const float alpha = exp2f(row_m[r] - ref);
            row_m[r] = m_new;
            float sum = 0.f;
#pragma unroll
            for (int nt = 0; nt < 2; ++nt) {
                s[nt][2 * r] = exp2f(s[nt][2 * r] - ref);
                s[nt][2 * r + 1] = exp2f(s[nt][2 * r + 1] - ref);
                sum += s[nt][2 * r] + s[nt][2 * r + 1];
            }
            row_l[r] = row_l[r] * alpha + sum;
#pragma unroll
            for (int n = 0; n < kDimTiles; ++n) {
                o[n][2 * r] *= alpha;
                o[n][2 * r + 1] *= alpha;
            }
        }
        // O += P V: P (16 rows x 16 tokens) is the A operand straight from the S fragments.
        uint32_t pa[4];
        pa[0] = M::pack(s[0][0], s[0][1]);
        pa[1] = M::pack(s[0][2], s[0][3]);
        pa[2] = M::pack(s[1][0], s[1][1]);
        pa[3] = M::pack(s[1][2], s[1][3]);
#pragma unroll
        for (int nd = 0; nd < HEAD_DIM / 16; ++nd) {
            uint32_t vb[4];
            attn::ldmatrix_x4_trans(vb, sv + L::offset(ld_row, 2 * nd + ld_chunk));
            M::mma(o[2 * nd], pa, vb[0], vb[1]);
            M::mma(o[2 * nd + 1], pa, vb[2], vb[3]);
        }
    }
    attn::cp_async_wait<0>();
    __syncthreads();  // every warp is done with the stages: reuse them for the cross-warp merge

#pragma unroll
    for (int r = 0; r < 2; ++r) {
        row_l[r] += __shfl_xor_sync(0xffffffffu, row_l[r], 1);
        row_l[r] += __shfl_xor_sync(0xffffffffu, row_l[r], 2);
    }
    // Only the group's rows are merged (the mma tile's other rows hold zero queries). Rows of red_o are
    // kRedStride floats apart, 8 banks: a warp's float2 stores (8 rows x 8 columns) then take the two shared
    // memory wavefronts their 256 bytes need, not one per row (128 floats apart, every row hit the same banks).
    float* red_o = reinterpret_cast<float*>(smem_raw);       // [warps][16][kRedStride]
    float* red_m = red_o + kDecodeWarps * 16 * kRedStride;  // [warps][16]
    float* red_l = red_m + kDecodeWarps * 16;               // [warps][16]
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const int row = quad_row + 8 * r;
        if (row >= group) continue;
        if ((lane & 3) == 0) {
            red_m[warp * 16 + row] = row_m[r];
            red_l[warp * 16 + row] = row_l[r];
        }
#pragma unroll
        for (int n = 0; n < kDimTiles; ++n) {
            float2 v = make_float2(o[n][2 * r], o[n][2 * r + 1]);
            *reinterpret_cast<float2*>(red_o + (warp * 16 + row) * kRedStride + n * 8 + quad_col) = v;
        }
    }
    __syncthreads();

    // Merge the warps' states; each thread finishes 8 consecutive dims of one query row.
    const bool split_mode = num_splits > 1;
    for (int item = tid; item < group * (HEAD_DIM / 8); item += kDecodeThreads) {
        const int row = item / (HEAD_DIM / 8);
        const int d0 = (item % (HEAD_DIM / 8)) * 8;
        float m_all = -INFINITY;
#pragma unroll
        for (int w = 0; w < kDecodeWarps; ++w) m_all = fmaxf(m_all, red_m[w * 16 + row]);
        const float ref = attn::safe_ref(m_all);
        float l_all = 0.f;
        float acc[8];
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[j] = 0.f;
#pragma unroll
        for (int w = 0; w < kDecodeWarps; ++w) {
            const float weight = exp2f(red_m[w * 16 + row] - ref);
            l_all += red_l[w * 16 + row] * weight;
            const float4* src = reinterpret_cast<const float4*>(red_o + (w * 16 + row) * kRedStride + d0);
            const float4 a = src[0];
            const float4 b = src[1];
            acc[0] += a.x * weight;
            acc[1] += a.y * weight;
            acc[2] += a.z * weight;
            acc[3] += a.w * weight;
            acc[4] += b.x * weight;
            acc[5] += b.y * weight;
            acc[6] += b.z * weight;
            acc[7] += b.w * weight;
        }
        const float inv_l = l_all > 0.f ? 1.f / l_all : 0.f;
        const int64_t head_row = (int64_t)seq * num_q_heads + (int64_t)kv_head * group + row;
        if (!split_mode) {
            alignas(16) T packed[8];
#pragma unroll
            for (int j = 0; j < 8; ++j) packed[j] = M::from_float(acc[j] * inv_l);
            *reinterpret_cast<uint4*>(out + head_row * HEAD_DIM + d0) = *reinterpret_cast<const uint4*>(packed);
        } else {
            float* dst = partial_out + (head_row * num_splits + split) * HEAD_DIM + d0;
            *reinterpret_cast<float4*>(dst) =
                make_float4(acc[0] * inv_l, acc[1] * inv_l, acc[2] * inv_l, acc[3] * inv_l);
            *reinterpret_cast<float4*>(dst + 4) =
                make_float4(acc[4] * inv_l, acc[5] * inv_l, acc[6] * inv_l, acc[7] * inv_l);
            if (d0 == 0) partial_lse[head_row * num_splits + split] = l_all > 0.f ? m_all + log2f(l_all) : -INFINITY;
        }
    }
    if (!split_mode) return;

    // Split-KV merge, in the same launch: the last CTA of this (sequence, KV head) to finish merges every
    // split (the count-the-finished pattern), then puts the counter back to 0 for the next launch.
    constexpr size_t kFlagOffset = decode_smem_bytes<T, HEAD_DIM, STAGES>() - kFlagBytes;
    int& last_split = *reinterpret_cast<int*>(smem_raw + kFlagOffset);
    // The count is one acquire-release atomic (run 43): the barrier orders every thread's partial writes before
    // thread 0's release, which the GPU-scope release makes visible to whichever CTA counts last; its acquire
    // and the barrier after it order the merge's reads. (Two __threadfence() around a relaxed atomicAdd cost a
    // memory round trip more on the batch-1 critical path.)
    __syncthreads();
    int32_t* counter = split_counters + (int64_t)seq * num_kv_heads + kv_head;
    if (tid == 0) {
        int32_t before;
        asm volatile("atom.acq_rel.gpu.global.add.s32 %0, [%1], 1;\n" : "=r"(before) : "l"(counter) : "memory");
        last_split = before == num_splits - 1;
    }
    __syncthreads();
    if (!last_split) return;
    // (This tail is the serial end of a batch-1 launch: each memory round trip in it shows.) Each thread merges
    // output float4 columns of the group's rows over the splits with a running max, as the online softmax does,
    // so a split's log-sum and its partial output are loaded together, kMergeBatch splits at a time, every load
    // of a batch in flight at once (splits past the last read as empty); no pass over the log-sums first.
    const int64_t row0 = (int64_t)seq * num_q_heads + (int64_t)kv_head * group;
    constexpr int kCols = HEAD_DIM / 4;  // float4 columns
    constexpr int kMergeBatch = 16;
    for (int item = tid; item < group * kCols; item += kDecodeThreads) {
        const int r = item / kCols;
        const int c = item % kCols;
        const float* lse = partial_lse + (row0 + r) * num_splits;
        const float4* po = reinterpret_cast<const float4*>(partial_out + (row0 + r) * num_splits * HEAD_DIM) + c;
        float m = -INFINITY;
        float l = 0.f;
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        for (int s0 = 0; s0 < num_splits; s0 += kMergeBatch) {
            float e[kMergeBatch];
            float4 v[kMergeBatch];
#pragma unroll
            for (int i = 0; i < kMergeBatch; ++i) {
                const bool valid = s0 + i < num_splits;
                e[i] = valid ? __ldcg(lse + s0 + i) : -INFINITY;
                v[i] = valid ? __ldcg(po + (int64_t)(s0 + i) * kCols) : make_float4(0.f, 0.f, 0.f, 0.f);
            }
            float m_new = m;
#pragma unroll
            for (int i = 0; i < kMergeBatch; ++i) m_new = fmaxf(m_new, e[i]);
            const float ref = attn::safe_ref(m_new);
            const float alpha = exp2f(m - ref);  // 0 while m is -inf
            l *= alpha;
            acc.x *= alpha;
            acc.y *= alpha;
            acc.z *= alpha;
            acc.w *= alpha;
#pragma unroll
            for (int i = 0; i < kMergeBatch; ++i) {
                const float w = exp2f(e[i] - ref);  // 0 for an empty split (log-sum -inf)
                l += w;
                acc.x += w * v[i].x;
                acc.y += w * v[i].y;
                acc.z += w * v[i].z;
                acc.w += w * v[i].w;
            }
            m = m_new;
        }
        const float inv = l > 0.f ? 1.f / l : 0.f;
        alignas(8) T packed[4] = {M::from_float(acc.x * inv), M::from_float(acc.y * inv), M::from_float(acc.z * inv),
                                  M::from_float(acc.w * inv)};
        *reinterpret_cast<uint2*>(out + (row0 + r) * HEAD_DIM + c * 4) = *reinterpret_cast<const uint2*>(packed);
    }
    if (tid == 0) *counter = 0;
}
