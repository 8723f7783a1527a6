// decode_plan.cu: how a decode launch is split (see paged_attention_decode.cuh, plan_decode).
#include "decode_config.cuh"
#include "paged_attention_decode.cuh"

namespace folio {

using namespace decode;

DecodePlan plan_decode(int num_seqs, int num_q_heads, int num_kv_heads, int head_dim, int max_context_len,
                       int num_sms) {
    DecodePlan plan{1, 0, 0, kStagesFew};
    const int tiles = (max_context_len + attn::kTileTokens - 1) / attn::kTileTokens;
    plan.chunk_tokens = (tiles > 0 ? tiles : 1) * attn::kTileTokens;
    const int64_t base = (int64_t)num_seqs * num_kv_heads;
    const int sms = num_sms > 0 ? num_sms : 1;
    // Two waves or more of the many-wave shape: its stage count, and no split (see kStagesMany).
    const int64_t slots_many = (int64_t)decode_ctas_per_sm(head_dim, kStagesMany) * sms;
    if (base >= 2 * slots_many) {
        plan.stages = kStagesMany;
        return plan;
    }
    const int64_t slots = (int64_t)decode_ctas_per_sm(head_dim, kStagesFew) * sms;
    int max_splits = max_context_len / kMinSplitTokens;
    if (max_splits > kMaxSplits) max_splits = kMaxSplits;
    if (kSplitModel) {
        // Wave model: every CTA slot of the GPU runs its CTAs one after another, so the launch takes about
        // waves(n) x (tiles per split + a fixed cost per CTA) for n splits. A launch of 1.3 waves idles 70% of
        // the slots during its second wave (3 CTAs per SM at 64 x 8k GQA: 512 CTAs on 396 slots lost 5% in
        // bench/kernels.py); 3 splits make it 1.94 waves of shorter CTAs. A split must save 3% to be taken
        // (each one writes a partial output and joins the merge). At 2 CTAs per SM (3 stages, the default)
        // this picks the same splits as the old one-wave rule on the whole B6 grid; it matters for other
        // stage counts and SM counts. Launches of two waves or more are left whole: their CTAs do not run
        // in lockstep, so the model overstates their tail.
        if (base < 2 * slots && max_splits > 1) {
            constexpr int64_t kCtaCostTiles = 2;  // prologue, cross-warp merge and output, in tile times
            int64_t best_time = 0;
            for (int s = 1; s <= max_splits; ++s) {
                const int chunk_tiles = (tiles + s - 1) / s;
                const int n = (tiles + chunk_tiles - 1) / chunk_tiles;
                const int64_t waves = (base * n + slots - 1) / slots;
                const int64_t time = waves * (chunk_tiles + kCtaCostTiles);
                if (s == 1 || time * 100 < best_time * 97) {
                    best_time = time;
                    plan.num_splits = n;
                    plan.chunk_tokens = chunk_tiles * attn::kTileTokens;
                }
            }
        }
    } else {
        // Split the context so the launch has about kDecodeWaves waves of CTAs (one wave = every CTA slot
        // of the GPU); a lone wave runs its CTAs in lockstep and streamed slower in bench/kernels.py runs.
        const int64_t want = (kDecodeWaves * slots + base / 2) / base;
        if (want > 1 && max_splits > 1) {
            const int splits = want < max_splits ? (int)want : max_splits;
            const int chunk_tiles = (tiles + splits - 1) / splits;
            plan.chunk_tokens = chunk_tiles * attn::kTileTokens;
            plan.num_splits = (tiles + chunk_tiles - 1) / chunk_tiles;  // no trailing split without tokens
        }
    }
    if (plan.num_splits > 1) {
        plan.workspace_bytes =
            (size_t)num_seqs * num_q_heads * plan.num_splits * ((size_t)head_dim + 1) * sizeof(float) +
            (size_t)num_seqs * num_kv_heads * sizeof(int32_t);
    }
    return plan;
}

}  // namespace folio
