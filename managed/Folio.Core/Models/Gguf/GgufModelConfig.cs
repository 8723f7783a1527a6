namespace Folio.Core.Models.Gguf;

/// <summary>
/// A <see cref="ModelConfig"/> from a GGUF file's metadata, as llama.cpp's convert_hf_to_gguf.py writes it:
/// <c>general.architecture</c> (llama — which Mistral files also use —, qwen2, qwen3 or phi3), then <c>ARCH.block_count</c>,
/// <c>.embedding_length</c>, <c>.feed_forward_length</c>, <c>.attention.head_count</c>,
/// <c>.attention.head_count_kv</c> (default: head_count), <c>.attention.layer_norm_rms_epsilon</c>,
/// <c>.context_length</c>, <c>.rope.freq_base</c> (default 10000), <c>.attention.key_length</c> (default:
/// embedding / heads), <c>.vocab_size</c> (default: token_embd's rows); tied embeddings when there is no
/// <c>output.weight</c>; a <c>rope_freqs</c> tensor (Llama-3 scaling as the converter writes it) divides each RoPE
/// frequency by its factor. Anything Folio would compute differently is refused naming the key: other
/// architectures, a <c>.rope.scaling.type</c>, RoPE over part of each head (<c>.rope.dimension_count</c> below the head
/// size), Phi-3's LongRoPE factors, a sliding window other than Phi-3's (every layer, as transformers applies it;
/// llama.cpp itself ignores it, so the two differ past the window).
/// </summary>
public static class GgufModelConfig
{
    public static ModelConfig From(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string arch = file.GetString("general.architecture")
            ?? throw new ModelFormatException($"{file.Path}: metadata 'general.architecture' is missing");
        var architecture = arch switch
        {
            "llama" => ModelArchitecture.Llama,
            "qwen2" => ModelArchitecture.Qwen2,
            "qwen3" => ModelArchitecture.Qwen3,
            "phi3" => ModelArchitecture.Phi3,
            _ => throw new ModelFormatException($"{file.Path}: general.architecture '{arch}' is not supported (llama, qwen2, qwen3, phi3; Mistral files say llama)"),
        };
        int Required(string key) => Int(file, $"{arch}.{key}") ?? throw new ModelFormatException($"{file.Path}: metadata '{arch}.{key}' is missing");
        int hidden = Required("embedding_length");
        int heads = Required("attention.head_count");
        int? keyLength = Int(file, $"{arch}.attention.key_length");
        // The head size is its own key where it is not hidden / heads (Qwen3's 128 with 16 heads of a 1024 stream).
        if (keyLength is null && hidden % heads != 0)
            throw new ModelFormatException($"{file.Path}: metadata '{arch}.attention.head_count' ({heads}) must divide embedding_length ({hidden}) when '{arch}.attention.key_length' is absent");
        int headDim = keyLength ?? hidden / heads;
        if (headDim % 2 != 0)
            throw new ModelFormatException($"{file.Path}: metadata '{arch}.attention.key_length' ({headDim}) must be even for rotary embeddings");
        if (Int(file, $"{arch}.attention.value_length") is int v && v != headDim)
            throw new ModelFormatException($"{file.Path}: metadata '{arch}.attention.value_length' ({v}) differs from the key length ({headDim})");
        if (file.GetString($"{arch}.rope.scaling.type") is { } scaling && scaling != "none")
            throw new ModelFormatException($"{file.Path}: metadata '{arch}.rope.scaling.type' '{scaling}' is not supported");
        if (Int(file, $"{arch}.rope.dimension_count") is int rotary && rotary != headDim)
            throw new ModelFormatException($"{file.Path}: metadata '{arch}.rope.dimension_count' ({rotary}) is not the head size ({headDim}): RoPE over part of each head is not supported");
        if (file.Tensors.Keys.FirstOrDefault(n => n.StartsWith("rope_factors_", StringComparison.Ordinal)) is { } longRope)
            throw new ModelFormatException($"{file.Path}: tensor '{longRope}' (LongRoPE scaling) is not supported");
        int? window = null;
        if (file.Metadata.ContainsKey($"{arch}.attention.sliding_window"))
        {
            if (architecture != ModelArchitecture.Phi3)
                throw new ModelFormatException($"{file.Path}: metadata '{arch}.attention.sliding_window' is not supported in GGUF files yet");
            // 0 is no window (a converter's default for a config without one).
            window = file.GetInteger($"{arch}.attention.sliding_window") == 0 ? null : Int(file, $"{arch}.attention.sliding_window");
        }
        if (!file.Tensors.TryGetValue("token_embd.weight", out var embedding) || embedding.Dims.Length != 2)
            throw new ModelFormatException($"{file.Path}: tensor 'token_embd.weight' is missing or not 2-D");
        int vocab = Int(file, $"{arch}.vocab_size") ?? (int)embedding.Dims[1];
        // End of sequence: eos first (the engine's), then the end-of-turn and end-of-message ids llama.cpp's converter
        // writes for Llama-3 instruct models (generation_config's eos list, which llama.cpp also stops on).
        var eos = new List<int>();
        if (file.GetInteger("tokenizer.ggml.eos_token_id") is long e)
            eos.Add((int)e);
        foreach (string key in (string[])["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"])
            if (file.GetInteger(key) is long id && id >= 0 && id < vocab && !eos.Contains((int)id))
                eos.Add((int)id);
        var config = new ModelConfig
        {
            Architecture = architecture,
            HiddenSize = hidden,
            IntermediateSize = Required("feed_forward_length"),
            NumLayers = Required("block_count"),
            NumHeads = heads,
            NumKvHeads = Int(file, $"{arch}.attention.head_count_kv") ?? heads,
            HeadDim = headDim,
            VocabSize = vocab,
            MaxPositionEmbeddings = Required("context_length"),
            RmsNormEps = (float)(file.GetNumber($"{arch}.attention.layer_norm_rms_epsilon")
                ?? throw new ModelFormatException($"{file.Path}: metadata '{arch}.attention.layer_norm_rms_epsilon' is missing")),
            Rope = Rope(file, arch, headDim),
            TieWordEmbeddings = !file.Tensors.ContainsKey("output.weight"),
            // Llama's and Qwen3's attention_bias (q/k/v and o); Qwen2's q/k/v biases are its definition's, not a config field.
            AttentionBias = architecture != ModelArchitecture.Qwen2 && file.Tensors.ContainsKey("blk.0.attn_q.bias"),
            SlidingWindow = window,
            BosTokenId = file.GetInteger("tokenizer.ggml.bos_token_id") is long b ? (int)b : null,
            EosTokenIds = eos,
        };
        if (config.NumKvHeads <= 0 || config.NumHeads % config.NumKvHeads != 0)
            throw new ModelFormatException($"{file.Path}: metadata '{arch}.attention.head_count_kv' ({config.NumKvHeads}) must divide head_count ({heads})");
        return config;
    }

    /// <summary>Plain RoPE at <c>.rope.freq_base</c>, or with a <c>rope_freqs.weight</c> tensor (llama.cpp's converter
    /// writes one for a Llama-3.1/3.2 scaling: the factor each frequency is divided by) those factors, head size / 2
    /// of them, finite and positive.</summary>
    private static RopeScaling Rope(GgufFile file, string arch, int headDim)
    {
        float theta = (float)(file.GetNumber($"{arch}.rope.freq_base") ?? 10000.0);
        if (!file.Tensors.TryGetValue("rope_freqs.weight", out var info))
            return new RopeScaling(RopeScalingKind.None, theta);
        if (info.Dims.Length != 1 || info.ElementCount != headDim / 2)
            throw new ModelFormatException($"{file.Path}: tensor 'rope_freqs.weight' has shape {info.ShapeText}, the head size {headDim} needs [{headDim / 2}]");
        var factors = new float[headDim / 2];
        file.ReadFloat32(info, factors);
        for (int i = 0; i < factors.Length; i++)
            if (!float.IsFinite(factors[i]) || factors[i] <= 0)
                throw new ModelFormatException($"{file.Path}: tensor 'rope_freqs.weight' element {i} is {factors[i]}, not a positive factor");
        return new RopeScaling(RopeScalingKind.FrequencyFactors, theta) { FrequencyFactors = factors };
    }

    private static int? Int(GgufFile file, string key) => file.GetInteger(key) switch
    {
        null => null,
        long n when n is > 0 and <= int.MaxValue => (int)n,
        var n => throw new ModelFormatException($"{file.Path}: metadata '{key}' = {n} is out of range"),
    };
}
