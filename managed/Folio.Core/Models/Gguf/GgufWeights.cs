using Folio.Core.Compute;

namespace Folio.Core.Models.Gguf;

/// <summary>
/// The weights of a GGUF file under Hugging Face's names (<see cref="IWeightSource"/>), so one model definition
/// loads both: <c>model.layers.N.self_attn.q_proj.weight</c> is <c>blk.N.attn_q.weight</c> and so on, shapes
/// compared with ggml's dims reversed (Qwen3's <c>self_attn.q_norm</c> is <c>attn_q_norm</c>). For the llama
/// architecture the converter permuted the rows of q and k
/// (weights and biases) from rotate-half to ggml's interleaved RoPE order; reading undoes it, so Folio's
/// rotate-half RoPE sees the checkpoint's original rows. F16 and BF16 tensors report their type (the CPU
/// backend keeps them 16-bit); Q3_K, Q4_K, Q5_K and Q6_K are also served as stored (<see cref="ReadKQuant"/>), Q5_0,
/// IQ4_NL and IQ4_XS as int8 groups of their exact values (<see cref="ReadInt8Groups"/>); block-quantized
/// tensors read as fp32 are dequantized.
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
    /// Q4_K and Q6_K have no such format (<see cref="ReadKQuant"/> serves their blocks instead).</summary>
    public WeightQuantization ExactQuantization(string name) =>
        GgufName(name) is { } g && file.Tensors.TryGetValue(g, out var t)
            ? t.Type switch { GgmlType.Q8_0 => WeightQuantization.Int8, GgmlType.Q4_0 => WeightQuantization.Int4, _ => WeightQuantization.None }
            : WeightQuantization.None;

    public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination)
    {
        var (g, info) = Find(name, expectedShape);
        file.ReadFloat32(info, destination);
        if (Permuted(g))
            Unpermute(destination, HeadsOf(g), (int)(info.ElementCount / expectedShape[0]));
    }

    /// <summary>Q3_K, Q4_K, Q5_K and Q6_K tensors of two dimensions as stored (llama's q/k rows un-permuted as whole rows of
    /// blocks, so every block is the file's), read from the file when first used; null for other types.</summary>
    public KQuantRows? ReadKQuant(string name, ReadOnlySpan<long> expectedShape)
    {
        var (g, info) = Find(name, expectedShape);
        KQuantFormat? format = info.Type switch
        {
            GgmlType.Q4_K => KQuantFormat.Q4K,
            GgmlType.Q5_K => KQuantFormat.Q5K,
            GgmlType.Q3_K => KQuantFormat.Q3K,
            GgmlType.Q6_K => KQuantFormat.Q6K,
            _ => null,
        };
        if (format is null || expectedShape.Length != 2 || expectedShape[0] > int.MaxValue || info.ByteLength > Array.MaxLength)
            return null;
        int rows = (int)expectedShape[0];
        // Read when the backend takes the blocks (KQuantRows.Blocks / CopyBlocksTo), not before: one that declines reads fp32.
        return new KQuantRows(g, format.Value, rows, (int)expectedShape[1], info.ByteLength, bytes =>
        {
            file.ReadBytes(info, bytes);
            if (Permuted(g))
                Unpermute(bytes, HeadsOf(g), (int)(info.ByteLength / rows));
        });
    }

    /// <summary>Q8_0, Q5_0, Q4_0, IQ4_NL and IQ4_XS tensors of two dimensions as int8 groups with exactly their values
    /// (read straight from their blocks, no fp32 copy; Q4_0's marked <see cref="Int8GroupRows.FourBit"/>); Q5_0's
    /// d · (q − 16) and IQ4_NL's d · level[nibble] are an fp16 d times an int8 in [−127, 127] per 32 weights (a
    /// negative d is taken as −d with the values negated: the same products), IQ4_XS's (d · (sc − 32)) · level an fp32
    /// scale times one; llama's q/k rows un-permuted. Q4_1, Q5_1 and Q2_K, which no int8 group holds exactly, come
    /// re-quantized (<see cref="GgufRequantize"/>, fp32 scales). Null for other types.</summary>
    public Int8GroupRows? ReadInt8Groups(string name, ReadOnlySpan<long> expectedShape)
    {
        var (g, info) = Find(name, expectedShape);
        bool requantized = GgufRequantize.Applies(info.Type);
        if (!(requantized || info.Type is GgmlType.Q8_0 or GgmlType.Q5_0 or GgmlType.Q4_0 or GgmlType.IQ4_NL or GgmlType.IQ4_XS) || expectedShape.Length != 2
            || expectedShape[0] * expectedShape[1] > Array.MaxLength || info.ByteLength > Array.MaxLength)
            return null;
        int rows = (int)expectedShape[0], cols = (int)expectedShape[1];
        var quants = new sbyte[(long)rows * cols];
        long groups = (long)rows * (cols / 32);
        // IQ4_XS's group scales are fp32 products (d · (sc − 32)), the re-quantized types' fp32 quotients; the others' an fp16 d.
        float[]? wide = info.Type == GgmlType.IQ4_XS || requantized ? new float[groups] : null;
        ushort[]? scales = wide is null ? new ushort[groups] : null;
        GgmlTypes.TryBlock(info.Type, out int blockElements, out int blockBytes);
        var values = requantized ? new float[blockElements] : null;
        // The blocks a piece at a time through one bounded buffer: no whole-tensor copy of the file's bytes.
        int perChunk = Math.Max(1, (1 << 20) / blockBytes);
        var chunk = new byte[perChunk * blockBytes];
        long blocks = info.ByteLength / blockBytes;
        for (long b0 = 0; b0 < blocks; b0 += perChunk)
        {
            int n = (int)Math.Min(perChunk, blocks - b0);
            file.ReadBytes(info, b0 * blockBytes, chunk.AsSpan(0, n * blockBytes));
            for (int i = 0; i < n; i++)
            {
                long b = b0 + i;
                var block = chunk.AsSpan(i * blockBytes, blockBytes);
                var q = quants.AsSpan((int)(b * blockElements), blockElements);
                if (requantized)
                {
                    var blockScales = wide!.AsSpan((int)(b * blockElements / 32), blockElements / 32);
                    GgufRequantize.Int8Groups(info.Type, block, values!, q, blockScales);
                    foreach (float s in blockScales)
                        if (!float.IsFinite(s))
                            throw new ModelFormatException($"{file.Path}: tensor '{g}': block {b} of {GgmlTypes.Name(info.Type)} gives a non-finite value (a non-finite scale or min: corrupt file?)");
                    continue;
                }
                if (wide is not null)
                {
                    GgufDequantize.Int8Groups(block, q, wide.AsSpan((int)(b * 8), 8));
                    continue;
                }
                // A Q8_0 value of −128 (llama.cpp's quantizer writes none) has no int8 form here: the tensor takes fp32.
                if (info.Type == GgmlType.Q8_0 && block[2..].Contains((byte)0x80))
                    return null;
                GgufDequantize.Int8Group(info.Type, block, q, out scales![b]);
            }
        }
        if (Permuted(g))
        {
            Unpermute<sbyte>(quants, HeadsOf(g), cols);
            if (wide is not null)
                Unpermute<float>(wide, HeadsOf(g), cols / 32);
            else
                Unpermute<ushort>(scales!, HeadsOf(g), cols / 32);
        }
        return wide is not null
            ? new Int8GroupRows(g, rows, cols, quants, wide)
            : new Int8GroupRows(g, rows, cols, quants, scales!) { FourBit = info.Type == GgmlType.Q4_0 };
    }

    private (string Gguf, GgufTensorInfo Info) Find(string name, ReadOnlySpan<long> expectedShape)
    {
        string g = GgufName(name) ?? throw new ModelFormatException($"{file.Path}: no GGUF tensor corresponds to '{name}'");
        if (!file.Tensors.TryGetValue(g, out var info))
            throw new ModelFormatException($"{file.Path}: tensor '{g}' (for {name}) is missing");
        if (!info.TorchShape.AsSpan().SequenceEqual(expectedShape))
            throw new ModelFormatException(
                $"{file.Path}: tensor '{g}' has shape {info.ShapeText}, the metadata implies [{string.Join(", ", expectedShape.ToArray())}]");
        return (g, info);
    }

    // Only llama files (Mistral's included) are permuted: the converter leaves qwen2 and qwen3 in rotate-half order.
    private bool Permuted(string g) =>
        config.Architecture is ModelArchitecture.Llama or ModelArchitecture.Mistral && (g.Contains(".attn_q.", StringComparison.Ordinal) || g.Contains(".attn_k.", StringComparison.Ordinal));

    private int HeadsOf(string g) => g.Contains(".attn_q.", StringComparison.Ordinal) ? config.NumHeads : config.NumKvHeads;

    /// <summary>Row h·D + 2j + i of the file is row h·D + i·D/2 + j of the checkpoint (D = head dim, i ∈ {0, 1});
    /// rows of any element type (fp32 values, or a row's bytes).</summary>
    private static void Unpermute<T>(Span<T> rows, int heads, int rowLength)
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
            "self_attn.qkv_proj" => "attn_qkv",        // Phi-3's fused q/k/v
            "self_attn.q_norm" => "attn_q_norm",
            "self_attn.k_norm" => "attn_k_norm",
            "post_attention_layernorm" => "ffn_norm",
            "mlp.gate_proj" => "ffn_gate",
            "mlp.up_proj" => "ffn_up",
            "mlp.gate_up_proj" => "ffn_up",            // Phi-3's fused gate/up, [gate; up] rows as the checkpoint's
            "mlp.down_proj" => "ffn_down",
            _ => null,
        };
        return part is null ? null : $"blk.{layer}.{part}{rest[kind..]}";
    }
}
