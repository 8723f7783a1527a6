using System.Text.Json;

namespace Folio.Core.Models;

/// <summary>The architectures Folio runs; one model definition each.</summary>
public enum ModelArchitecture { Llama, Mistral, Qwen2, Qwen3, Phi3 }

/// <summary>
/// A validated model configuration (from a Hugging Face <c>config.json</c>). Every field is checked at load:
/// a missing or mistyped field, or an unsupported architecture or feature, is a <see cref="ModelFormatException"/>
/// naming the file and the field.
/// </summary>
public sealed record ModelConfig
{
    public required ModelArchitecture Architecture { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required float RmsNormEps { get; init; }
    public required RopeScaling Rope { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    /// <summary>The file's <c>attention_bias</c> (Llama's key: bias on q/k/v and o). Which projections carry a
    /// bias is the architecture's definition's to say (<see cref="DecoderModel.VariantOf"/>).</summary>
    public required bool AttentionBias { get; init; }
    /// <summary>The attention window when sliding-window attention is on (Mistral's and Phi-3's <c>sliding_window</c>;
    /// Qwen2's and Qwen3's when <c>use_sliding_window</c>); null when off.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Which layers use <see cref="SlidingWindow"/> (Qwen2, Qwen3: <c>layer_types</c>, or the layers from
    /// <c>max_window_layers</c> on); null = every layer (Mistral).</summary>
    public IReadOnlyList<bool>? SlidingLayers { get; init; }

    /// <summary>How many keys a query of <paramref name="layer"/> attends to: its own position and the W − 1 before
    /// it in a sliding-window layer (transformers' mask keeps key j for query i when j &gt; i − W); 0 = every
    /// earlier position.</summary>
    public int AttentionWindow(int layer) =>
        SlidingWindow is int w && (SlidingLayers is null || SlidingLayers[layer]) ? w : 0;
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Reads and validates <paramref name="path"/> (a <c>config.json</c>).</summary>
    public static ModelConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot read the model configuration ({e.Message})");
        }
        return Parse(text, path);
    }

    /// <summary>Parses config JSON text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string source)
    {
        ModelConfigJson? raw;
        try
        {
            raw = JsonSerializer.Deserialize(json, ModelJsonContext.Default.ModelConfigJson);
        }
        catch (JsonException e)
        {
            string field = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : e.Path ?? "?";
            throw new ModelFormatException(e.Path is null or "$"
                ? $"{source}: not valid JSON (line {e.LineNumber + 1}): {e.Message}"
                : $"{source}: field '{field}' has the wrong type or value (line {e.LineNumber + 1})");
        }
        if (raw is null)
            throw new ModelFormatException($"{source}: expected a JSON object, found null");
        return new Validator(raw, source).Build();
    }

    /// <summary>Parameters of the model (weights), for reporting.</summary>
    public long ParameterCount()
    {
        long qkv = (long)HiddenSize * (NumHeads + 2 * NumKvHeads) * HeadDim;
        long o = (long)NumHeads * HeadDim * HiddenSize;
        long mlp = 3L * HiddenSize * IntermediateSize;
        long norms = 2L * HiddenSize + (Architecture == ModelArchitecture.Qwen3 ? 2L * HeadDim : 0);
        long perLayer = qkv + o + mlp + norms;
        long embeddings = (long)VocabSize * HiddenSize * (TieWordEmbeddings ? 1 : 2);
        return perLayer * NumLayers + embeddings + HiddenSize;
    }

    private sealed class Validator(ModelConfigJson raw, string source)
    {
        public ModelConfig Build()
        {
            var arch = Architecture();
            int hidden = Positive(raw.HiddenSize, "hidden_size");
            int heads = Positive(raw.NumAttentionHeads, "num_attention_heads");
            int kvHeads = raw.NumKeyValueHeads is null ? heads : Positive(raw.NumKeyValueHeads, "num_key_value_heads");
            if (heads % kvHeads != 0)
                Fail("num_key_value_heads", $"must divide num_attention_heads ({heads}), is {kvHeads}");
            int headDim = raw.HeadDim is null ? hidden / heads : Positive(raw.HeadDim, "head_dim");
            if (raw.HeadDim is null && hidden % heads != 0)
                Fail("hidden_size", $"must be a multiple of num_attention_heads ({heads}) when head_dim is absent");
            if (headDim % 2 != 0)
                Fail("head_dim", $"must be even for rotary embeddings, is {headDim}");
            if (raw.HiddenAct is not null && raw.HiddenAct != "silu")
                Fail("hidden_act", $"'{raw.HiddenAct}' is not supported (only 'silu')");
            if (raw.MlpBias == true)
                Fail("mlp_bias", "true is not supported");
            // Pre-quantized weights (GPTQ/AWQ 4-bit, bitsandbytes, fp8 …) are stored in formats Folio does not read;
            // Folio quantizes an fp32/bf16 checkpoint itself (--quantization int8).
            if (raw.QuantizationConfig is { } q)
                Fail("quantization_config", $"quant_method '{q.QuantMethod ?? "?"}': pre-quantized checkpoints are not supported (load the unquantized checkpoint; --quantization int8 quantizes it at load)");
            if (raw.PretrainingTp is > 1)
                Fail("pretraining_tp", $"{raw.PretrainingTp} is not supported (only 1)");
            // RoPE over part of each head (Phi-4-mini's 0.75): the backends rotate whole heads.
            if ((raw.PartialRotaryFactor ?? raw.RopeParameters?.PartialRotaryFactor) is double partial && partial != 1.0)
                Fail("partial_rotary_factor", $"{partial} is not supported (only 1: RoPE over whole heads)");
            // transformers sets Qwen2's and Qwen3's window only with use_sliding_window; Mistral's and Phi-3's apply
            // whenever it is set (every layer).
            bool qwen = arch is ModelArchitecture.Qwen2 or ModelArchitecture.Qwen3;
            bool slidingOn = raw.SlidingWindow is not null &&
                (qwen ? raw.UseSlidingWindow == true : arch is ModelArchitecture.Mistral or ModelArchitecture.Phi3);
            int maxPos = Positive(raw.MaxPositionEmbeddings, "max_position_embeddings");
            int numLayers = Positive(raw.NumHiddenLayers, "num_hidden_layers");
            if (raw.SlidingWindow is <= 0)
                Fail("sliding_window", $"must be > 0, is {raw.SlidingWindow}");
            bool[]? slidingLayers = slidingOn && qwen ? QwenSlidingLayers(numLayers) : null;
            double eps = raw.RmsNormEps ?? Fail<double>("rms_norm_eps", "is missing");
            if (!(eps > 0))
                Fail("rms_norm_eps", $"must be > 0, is {eps}");
            return new ModelConfig
            {
                Architecture = arch,
                HiddenSize = hidden,
                IntermediateSize = Positive(raw.IntermediateSize, "intermediate_size"),
                NumLayers = numLayers,
                NumHeads = heads,
                NumKvHeads = kvHeads,
                HeadDim = headDim,
                VocabSize = Positive(raw.VocabSize, "vocab_size"),
                MaxPositionEmbeddings = maxPos,
                RmsNormEps = (float)eps,
                Rope = Rope(maxPos),
                // transformers' default for these five architectures is untied.
                TieWordEmbeddings = raw.TieWordEmbeddings ?? false,
                AttentionBias = raw.AttentionBias == true,
                SlidingWindow = slidingOn ? raw.SlidingWindow : null,
                SlidingLayers = slidingLayers,
                BosTokenId = TokenIds(raw.BosTokenId, "bos_token_id") is [var bos, ..] ? bos : null,
                EosTokenIds = TokenIds(raw.EosTokenId, "eos_token_id"),
            };
        }

        // Qwen2's and Qwen3's windowed layers: layer_types when the file has it (transformers 5 writes it), else the
        // layers from max_window_layers on (transformers' default for the key is 28).
        private bool[] QwenSlidingLayers(int numLayers)
        {
            if (raw.LayerTypes is { } types)
            {
                if (types.Length != numLayers)
                    Fail("layer_types", $"has {types.Length} entries for {numLayers} layers (num_hidden_layers)");
                var sliding = new bool[numLayers];
                for (int i = 0; i < numLayers; i++)
                {
                    sliding[i] = types[i] switch
                    {
                        "sliding_attention" => true,
                        "full_attention" => false,
                        _ => Fail<bool>("layer_types", $"entry {i} is '{types[i]}'; expected 'full_attention' or 'sliding_attention'"),
                    };
                }
                return sliding;
            }
            int first = raw.MaxWindowLayers ?? 28;
            if (first < 0)
                Fail("max_window_layers", $"must be >= 0, is {first}");
            return [.. Enumerable.Range(0, numLayers).Select(i => i >= first)];
        }

        private ModelArchitecture Architecture()
        {
            string? name = raw.Architectures is { Length: > 0 } a ? a[0] : null;
            string? type = raw.ModelType;
            if (name is null && type is null)
                Fail("architectures", "is missing (and so is model_type)");
            return name switch
            {
                "LlamaForCausalLM" => ModelArchitecture.Llama,
                "MistralForCausalLM" => ModelArchitecture.Mistral,
                "Qwen2ForCausalLM" => ModelArchitecture.Qwen2,
                "Qwen3ForCausalLM" => ModelArchitecture.Qwen3,
                "Phi3ForCausalLM" => ModelArchitecture.Phi3,
                null => type switch
                {
                    "llama" => ModelArchitecture.Llama,
                    "mistral" => ModelArchitecture.Mistral,
                    "qwen2" => ModelArchitecture.Qwen2,
                    "qwen3" => ModelArchitecture.Qwen3,
                    "phi3" => ModelArchitecture.Phi3,
                    _ => Fail<ModelArchitecture>("model_type", $"'{type}' is not supported (supported: llama, mistral, qwen2, qwen3, phi3)"),
                },
                _ => Fail<ModelArchitecture>("architectures",
                    $"'{name}' is not supported (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Phi3ForCausalLM)"),
            };
        }

        private RopeScaling Rope(int maxPos)
        {
            // transformers 5 writes rope_parameters (theta inside); 4.x writes rope_theta + rope_scaling.
            RopeJson? r = raw.RopeParameters ?? raw.RopeScaling;
            string field = raw.RopeParameters is not null ? "rope_parameters" : "rope_scaling";
            double theta = raw.RopeParameters?.RopeTheta ?? raw.RopeTheta ?? 10000.0;
            if (!(theta > 0))
                Fail("rope_theta", $"must be > 0, is {theta}");
            string kind = r?.RopeType ?? r?.Type ?? "default";
            switch (kind)
            {
                case "default":
                    return new RopeScaling(RopeScalingKind.None, theta);
                case "llama3":
                    double factor = r!.Factor ?? Fail<double>(field + ".factor", "is missing");
                    double low = r.LowFreqFactor ?? Fail<double>(field + ".low_freq_factor", "is missing");
                    double high = r.HighFreqFactor ?? Fail<double>(field + ".high_freq_factor", "is missing");
                    int original = r.OriginalMaxPositionEmbeddings ?? Fail<int>(field + ".original_max_position_embeddings", "is missing");
                    if (!(factor >= 1) || !(low > 0) || !(high > low) || original <= 0)
                        Fail(field, $"llama3 scaling needs factor >= 1, 0 < low_freq_factor < high_freq_factor, original_max_position_embeddings > 0");
                    return new RopeScaling(RopeScalingKind.Llama3, theta, factor, low, high, original);
                default:
                    return Fail<RopeScaling>(field, $"rope type '{kind}' is not supported (supported: default, llama3)");
            }
        }

        private int[] TokenIds(JsonElement? element, string field)
        {
            if (element is not { } e || e.ValueKind == JsonValueKind.Null)
                return [];
            if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int one))
                return [one];
            if (e.ValueKind == JsonValueKind.Array)
            {
                var ids = new List<int>();
                foreach (var item in e.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                        Fail(field, "must be an integer or a list of integers");
                    else
                        ids.Add(id);
                }
                return [.. ids];
            }
            return Fail<int[]>(field, "must be an integer or a list of integers");
        }

        private int Positive(int? value, string field)
        {
            if (value is null)
                Fail(field, "is missing");
            if (value <= 0)
                Fail(field, $"must be > 0, is {value}");
            return value!.Value;
        }

        private void Fail(string field, string what) => throw new ModelFormatException($"{source}: field '{field}' {what}");

        private T Fail<T>(string field, string what) => throw new ModelFormatException($"{source}: field '{field}' {what}");
    }
}
