using Folio.Core.Compute;

namespace Folio.Core.Models.Gguf;

/// <summary>
/// The weights of a GGUF file under Hugging Face's names (<see cref="IWeightSource"/>), so one model definition
/// loads both: <c>model.layers.N.self_attn.q_proj.weight</c> is <c>blk.N.attn_q.weight</c> and so on, shapes
/// compared with ggml's dims reversed. For the llama architecture the converter permuted the rows of q and k
/// (weights and biases) from rotate-half to ggml's interleaved RoPE order; reading undoes it, so Folio's
/// rotate-half RoPE sees the checkpoint's original rows. F16 and BF16 tensors report their type (the CPU
/// backend keeps them 16-bit); block-quantized ones are dequantized to fp32.
/// </summary>
public sealed class GgufWeights(GgufFile file, ModelConfig config) : IWeightSource
{
    public bool Contains(string name) => GgufName(name) is { } g && file.Tensors.ContainsKey(g);

    public DType StoredType(string name) =>
        GgufName(name) is { } g && file.Tensors.TryGetValue(g, out var t)
            ? t.Type switch { GgmlType.F16 => DType.F16, GgmlType.BF16 => DType.BF16, _ => DType.F32 }
            : DType.F32;

    /// <summary>Q8_0 and Q4_0 tensors are Folio's int8 and int4 exactly (same group of 32, fp16 scale, and a
    /// re-quantization of their dequantized values gives back their scales and quants), so they stay 8 and 4 bits.
    /// Q4_K and Q6_K have no exact Folio format and are read as fp32.</summary>
    public WeightQuantization ExactQuantization(string name) =>
        GgufName(name) is { } g && file.Tensors.TryGetValue(g, out var t)
            ? t.Type switch { GgmlType.Q8_0 => WeightQuantization.Int8, GgmlType.Q4_0 => WeightQuantization.Int4, _ => WeightQuantization.None }
            : WeightQuantization.None;

    public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination)
    {
        string g = GgufName(name) ?? throw new ModelFormatException($"{file.Path}: no GGUF tensor corresponds to '{name}'");
        if (!file.Tensors.TryGetValue(g, out var info))
            throw new ModelFormatException($"{file.Path}: tensor '{g}' (for {name}) is missing");
        if (!info.TorchShape.AsSpan().SequenceEqual(expectedShape))
            throw new ModelFormatException(
                $"{file.Path}: tensor '{g}' has shape {info.ShapeText}, the metadata implies [{string.Join(", ", expectedShape.ToArray())}]");
        file.ReadFloat32(info, destination);
        if (config.Architecture != ModelArchitecture.Qwen2 && (g.Contains(".attn_q.", StringComparison.Ordinal) || g.Contains(".attn_k.", StringComparison.Ordinal)))
            Unpermute(destination, g.Contains(".attn_q.", StringComparison.Ordinal) ? config.NumHeads : config.NumKvHeads,
                (int)(info.ElementCount / expectedShape[0]));
    }

    /// <summary>Row h·D + 2j + i of the file is row h·D + i·D/2 + j of the checkpoint (D = head dim, i ∈ {0, 1}).</summary>
    private static void Unpermute(Span<float> rows, int heads, int rowLength)
    {
        int total = rows.Length / rowLength, headDim = total / heads, half = headDim / 2;
        var copy = rows.ToArray();
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < half; j++)
                    copy.AsSpan((h * headDim + 2 * j + i) * rowLength, rowLength)
                        .CopyTo(rows.Slice((h * headDim + i * half + j) * rowLength, rowLength));
    }

    /// <summary>The GGUF name of a Hugging Face tensor name, or null when there is none.</summary>
    public static string? GgufName(string hf)
    {
        switch (hf)
        {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return "output.weight";
        }
        const string Prefix = "model.layers.";
        if (!hf.StartsWith(Prefix, StringComparison.Ordinal))
            return null;
        int dot = hf.IndexOf('.', Prefix.Length);
        if (dot < 0)
            return null;
        string layer = hf[Prefix.Length..dot], rest = hf[(dot + 1)..];
        int kind = rest.LastIndexOf('.');
        string? part = rest[..Math.Max(0, kind)] switch
        {
            "input_layernorm" => "attn_norm",
            "self_attn.q_proj" => "attn_q",
            "self_attn.k_proj" => "attn_k",
            "self_attn.v_proj" => "attn_v",
            "self_attn.o_proj" => "attn_output",
            "post_attention_layernorm" => "ffn_norm",
            "mlp.gate_proj" => "ffn_gate",
            "mlp.up_proj" => "ffn_up",
            "mlp.down_proj" => "ffn_down",
            _ => null,
        };
        return part is null ? null : $"blk.{layer}.{part}{rest[kind..]}";
    }
}
