namespace Folio.Core.Models;

/// <summary>
/// Model shapes Folio can make with seeded random weights (no download): <c>tiny</c> is the embedded default
/// (GPT-2 vocabulary, so text works); <c>b8</c> is benchmark B8's ~100M-parameter Llama shape; <c>llama-1b</c>
/// and <c>llama-8b</c> are Llama-3.2-1B and Llama-3-8B shapes for GPU benchmarks; <c>qwen3-0.6b</c> is Qwen3-0.6B's
/// (q/k norms, 16 heads of 128 beside a 1024-wide stream, tied embeddings) for the CPU comparison with llama.cpp.
/// </summary>
public static class BuiltinModels
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "b8", "llama-1b", "llama-8b", "qwen3-0.6b"];

    public static bool TryGet(string name, out ModelConfig config)
    {
        config = name switch
        {
            "tiny" => Llama(hidden: 256, layers: 4, heads: 8, kvHeads: 4, ffn: 704, vocab: 50257, maxPos: 2048, tied: false,
                new RopeScaling(RopeScalingKind.None, 10000), bos: 50256, eos: 50256),
            "b8" => Llama(hidden: 768, layers: 12, heads: 12, kvHeads: 4, ffn: 2048, vocab: 32000, maxPos: 2048, tied: false,
                new RopeScaling(RopeScalingKind.None, 10000), bos: 1, eos: 2),
            "llama-1b" => Llama(hidden: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256, maxPos: 131072, tied: true,
                new RopeScaling(RopeScalingKind.Llama3, 500000, 32, 1, 4, 8192), bos: 128000, eos: 128001),
            "llama-8b" => Llama(hidden: 4096, layers: 32, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256, maxPos: 8192, tied: false,
                new RopeScaling(RopeScalingKind.None, 500000), bos: 128000, eos: 128001),
            // Qwen3-0.6B's config.json: head_dim 128 is its own key (hidden / heads would be 64).
            "qwen3-0.6b" => Llama(hidden: 1024, layers: 28, heads: 16, kvHeads: 8, ffn: 3072, vocab: 151936, maxPos: 40960, tied: true,
                new RopeScaling(RopeScalingKind.None, 1000000), bos: 151643, eos: 151645) with
            {
                Architecture = ModelArchitecture.Qwen3, HeadDim = 128, RmsNormEps = 1e-6f,
            },
            _ => null!,
        };
        return config is not null;
    }

    private static ModelConfig Llama(int hidden, int layers, int heads, int kvHeads, int ffn, int vocab, int maxPos, bool tied,
        RopeScaling rope, int bos, int eos) => new()
    {
        Architecture = ModelArchitecture.Llama,
        HiddenSize = hidden,
        IntermediateSize = ffn,
        NumLayers = layers,
        NumHeads = heads,
        NumKvHeads = kvHeads,
        HeadDim = hidden / heads,
        VocabSize = vocab,
        MaxPositionEmbeddings = maxPos,
        RmsNormEps = 1e-5f,
        Rope = rope,
        TieWordEmbeddings = tied,
        AttentionBias = false,
        BosTokenId = bos,
        EosTokenIds = [eos],
    };

    /// <summary>Every weight tensor of a Llama-family config (Qwen3's q/k norms included), with its shape, in checkpoint order.</summary>
    public static IEnumerable<(string Name, long[] Shape)> TensorShapes(ModelConfig c)
    {
        var variant = DecoderModel.VariantOf(c);
        long h = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim, f = c.IntermediateSize;
        yield return ("model.embed_tokens.weight", [c.VocabSize, h]);
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return (p + "input_layernorm.weight", [h]);
            if (variant.FusedProjections)
            {
                yield return (p + "self_attn.qkv_proj.weight", [q + 2 * kv, h]);
            }
            else
            {
                yield return (p + "self_attn.q_proj.weight", [q, h]);
                yield return (p + "self_attn.k_proj.weight", [kv, h]);
                yield return (p + "self_attn.v_proj.weight", [kv, h]);
            }
            if (variant.QkvBias)
            {
                yield return (p + "self_attn.q_proj.bias", [q]);
                yield return (p + "self_attn.k_proj.bias", [kv]);
                yield return (p + "self_attn.v_proj.bias", [kv]);
            }
            if (variant.QkNorm)
            {
                yield return (p + "self_attn.q_norm.weight", [c.HeadDim]);
                yield return (p + "self_attn.k_norm.weight", [c.HeadDim]);
            }
            yield return (p + "self_attn.o_proj.weight", [h, q]);
            if (variant.OutputBias)
                yield return (p + "self_attn.o_proj.bias", [h]);
            yield return (p + "post_attention_layernorm.weight", [h]);
            if (variant.FusedProjections)
            {
                yield return (p + "mlp.gate_up_proj.weight", [2 * f, h]);
            }
            else
            {
                yield return (p + "mlp.gate_proj.weight", [f, h]);
                yield return (p + "mlp.up_proj.weight", [f, h]);
            }
            yield return (p + "mlp.down_proj.weight", [h, f]);
        }
        yield return ("model.norm.weight", [h]);
        if (!c.TieWordEmbeddings)
            yield return ("lm_head.weight", [c.VocabSize, h]);
    }
}
