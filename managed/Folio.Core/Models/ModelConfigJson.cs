using System.Text.Json;
using System.Text.Json.Serialization;

namespace Folio.Core.Models;

/// <summary>The fields of a Hugging Face <c>config.json</c> that Folio reads, as written (all optional here;
/// <see cref="ModelConfig.Parse"/> checks presence and ranges and names what is wrong).</summary>
internal sealed class ModelConfigJson
{
    [JsonPropertyName("architectures")] public string[]? Architectures { get; set; }
    /// <summary>Only its method is read: a pre-quantized checkpoint (GPTQ, AWQ …) is refused by name.</summary>
    [JsonPropertyName("quantization_config")] public QuantizationConfigJson? QuantizationConfig { get; set; }
    [JsonPropertyName("model_type")] public string? ModelType { get; set; }
    [JsonPropertyName("hidden_size")] public int? HiddenSize { get; set; }
    [JsonPropertyName("intermediate_size")] public int? IntermediateSize { get; set; }
    [JsonPropertyName("num_hidden_layers")] public int? NumHiddenLayers { get; set; }
    [JsonPropertyName("num_attention_heads")] public int? NumAttentionHeads { get; set; }
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeads { get; set; }
    [JsonPropertyName("head_dim")] public int? HeadDim { get; set; }
    [JsonPropertyName("vocab_size")] public int? VocabSize { get; set; }
    [JsonPropertyName("max_position_embeddings")] public int? MaxPositionEmbeddings { get; set; }
    [JsonPropertyName("rms_norm_eps")] public double? RmsNormEps { get; set; }
    [JsonPropertyName("rope_theta")] public double? RopeTheta { get; set; }
    [JsonPropertyName("rope_scaling")] public RopeJson? RopeScaling { get; set; }
    [JsonPropertyName("rope_parameters")] public RopeJson? RopeParameters { get; set; }
    [JsonPropertyName("tie_word_embeddings")] public bool? TieWordEmbeddings { get; set; }
    [JsonPropertyName("hidden_act")] public string? HiddenAct { get; set; }
    [JsonPropertyName("attention_bias")] public bool? AttentionBias { get; set; }
    [JsonPropertyName("mlp_bias")] public bool? MlpBias { get; set; }
    [JsonPropertyName("bos_token_id")] public JsonElement? BosTokenId { get; set; }
    [JsonPropertyName("eos_token_id")] public JsonElement? EosTokenId { get; set; }
    [JsonPropertyName("sliding_window")] public int? SlidingWindow { get; set; }
    [JsonPropertyName("use_sliding_window")] public bool? UseSlidingWindow { get; set; }
    [JsonPropertyName("max_window_layers")] public int? MaxWindowLayers { get; set; }
    [JsonPropertyName("layer_types")] public string[]? LayerTypes { get; set; }
    [JsonPropertyName("pretraining_tp")] public int? PretrainingTp { get; set; }
    [JsonPropertyName("partial_rotary_factor")] public double? PartialRotaryFactor { get; set; }
}

/// <summary><c>rope_scaling</c> (transformers 4) or <c>rope_parameters</c> (transformers 5, with the theta inside).</summary>
internal sealed class RopeJson
{
    [JsonPropertyName("rope_type")] public string? RopeType { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("rope_theta")] public double? RopeTheta { get; set; }
    [JsonPropertyName("factor")] public double? Factor { get; set; }
    [JsonPropertyName("low_freq_factor")] public double? LowFreqFactor { get; set; }
    [JsonPropertyName("high_freq_factor")] public double? HighFreqFactor { get; set; }
    [JsonPropertyName("original_max_position_embeddings")] public int? OriginalMaxPositionEmbeddings { get; set; }
    [JsonPropertyName("partial_rotary_factor")] public double? PartialRotaryFactor { get; set; }
}

/// <summary>Source-generated (reflection-free, NativeAOT-safe) serializers for the model files.</summary>
[JsonSourceGenerationOptions(ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ModelConfigJson))]
[JsonSerializable(typeof(SafetensorsIndexJson))]
internal sealed partial class ModelJsonContext : JsonSerializerContext;

/// <summary><c>model.safetensors.index.json</c>: which shard file holds each tensor.</summary>
internal sealed class SafetensorsIndexJson
{
    [JsonPropertyName("weight_map")] public Dictionary<string, string>? WeightMap { get; set; }
}

/// <summary>config.json's <c>quantization_config</c>, as far as Folio reads it.</summary>
internal sealed class QuantizationConfigJson
{
    [JsonPropertyName("quant_method")] public string? QuantMethod { get; set; }
}
