using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// Writes a model as a Hugging Face folder: <c>config.json</c> (transformers 4.x keys, which 4.x and 5.x
/// both read), <c>generation_config.json</c> and one <c>model.safetensors</c> (F32 or BF16), streaming each
/// tensor from a <see cref="SeededWeights"/> in chunks so that an 8B shape needs no 32 GB buffer.
/// </summary>
public static class HfFolderWriter
{
    public static void Write(ModelConfig c, SeededWeights weights, string folder, bool bf16)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), ConfigJson(c));
        File.WriteAllText(Path.Combine(folder, "generation_config.json"),
            $"{{\"bos_token_id\": {c.BosTokenId ?? 0}, \"eos_token_id\": {c.EosTokenIds.FirstOrDefault()}, \"do_sample\": true}}\n");
        var tensors = BuiltinModels.TensorShapes(c).ToList();
        int elementBytes = bf16 ? 2 : 4;
        var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        foreach (var (name, shape) in tensors)
        {
            long bytes = shape.Aggregate(1L, (a, b) => a * b) * elementBytes;
            header.Append(CultureInfo.InvariantCulture,
                $",\"{name}\":{{\"dtype\":\"{(bf16 ? "BF16" : "F32")}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }
        header.Append('}');
        while ((header.Length + 8) % 8 != 0)
            header.Append(' ');   // data starts 8-byte aligned, as safetensors' writer does
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        using var file = new FileStream(Path.Combine(folder, "model.safetensors"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
        file.Write(length);
        file.Write(headerBytes);
        const int Chunk = 1 << 20;
        var values = new float[Chunk];
        var bytesOut = new byte[Chunk * 4];
        foreach (var (name, shape) in tensors)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            for (long at = 0; at < count; at += Chunk)
            {
                int n = (int)Math.Min(Chunk, count - at);
                weights.Fill(name, shape, at, values.AsSpan(0, n));
                if (bf16)
                {
                    for (int i = 0; i < n; i++)
                        BinaryPrimitives.WriteUInt16LittleEndian(bytesOut.AsSpan(i * 2), BFloat16.FromSingle(values[i]));
                    file.Write(bytesOut, 0, n * 2);
                }
                else
                {
                    for (int i = 0; i < n; i++)
                        BinaryPrimitives.WriteSingleLittleEndian(bytesOut.AsSpan(i * 4), values[i]);
                    file.Write(bytesOut, 0, n * 4);
                }
            }
        }
    }

    private static string ConfigJson(ModelConfig c)
    {
        var inv = CultureInfo.InvariantCulture;
        if (c.Rope.Kind == RopeScalingKind.FrequencyFactors)
            throw new NotSupportedException("a config.json cannot hold per-frequency RoPE factors (a GGUF file's rope_freqs)");
        string rope = c.Rope.Kind == RopeScalingKind.Llama3
            ? string.Format(inv, "{{\"rope_type\": \"llama3\", \"factor\": {0}, \"low_freq_factor\": {1}, \"high_freq_factor\": {2}, \"original_max_position_embeddings\": {3}}}",
                c.Rope.Factor, c.Rope.LowFreqFactor, c.Rope.HighFreqFactor, c.Rope.OriginalMaxPositionEmbeddings)
            : "null";
        string arch = c.Architecture switch
        {
            ModelArchitecture.Qwen2 => "Qwen2ForCausalLM",
            ModelArchitecture.Qwen3 => "Qwen3ForCausalLM",
            ModelArchitecture.Phi3 => "Phi3ForCausalLM",
            ModelArchitecture.Mistral => "MistralForCausalLM",
            _ => "LlamaForCausalLM",
        };
        string type = c.Architecture.ToString().ToLowerInvariant();
        return string.Create(inv, $$"""
            {
              "architectures": ["{{arch}}"],
              "model_type": "{{type}}",
              "hidden_size": {{c.HiddenSize}},
              "intermediate_size": {{c.IntermediateSize}},
              "num_hidden_layers": {{c.NumLayers}},
              "num_attention_heads": {{c.NumHeads}},
              "num_key_value_heads": {{c.NumKvHeads}},
              "head_dim": {{c.HeadDim}},
              "vocab_size": {{c.VocabSize}},
              "max_position_embeddings": {{c.MaxPositionEmbeddings}},
              "rms_norm_eps": {{c.RmsNormEps:R}},
              "rope_theta": {{c.Rope.Theta:R}},
              "rope_scaling": {{rope}},
              "tie_word_embeddings": {{(c.TieWordEmbeddings ? "true" : "false")}},
              "hidden_act": "silu",
              "attention_bias": {{(c.AttentionBias ? "true" : "false")}},
              "bos_token_id": {{c.BosTokenId ?? 0}},
              "eos_token_id": {{c.EosTokenIds.FirstOrDefault()}},
              "torch_dtype": "float32"
            }

            """);
    }
}
