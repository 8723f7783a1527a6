using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// Mistral (<c>MistralForCausalLM</c>): the shared decoder (<see cref="DecoderModel"/>) with no bias on any
/// projection (transformers' Mistral has no <c>attention_bias</c> key, so one in the file is ignored). What sets
/// Mistral apart is <c>sliding_window</c>: each token attends only to the last W positions, in every layer
/// (<see cref="ModelConfig.AttentionWindow"/>; the paged attention skips the older keys, whose blocks stay
/// allocated). A null window is plain causal attention.
/// </summary>
public sealed class MistralModel : DecoderModel
{
    public static DecoderVariant Variant { get; } = new(QkvBias: false, OutputBias: false);

    private MistralModel(ModelConfig config, IWeightSource weights, IComputeBackend backend)
        : base(config, weights, backend, Variant)
    {
    }

    /// <summary>Reads and checks every weight, uploading them to <paramref name="backend"/>.</summary>
    public static new MistralModel Load(ModelConfig config, IWeightSource weights, IComputeBackend backend)
    {
        EnsureLoadable(config, ModelArchitecture.Mistral, nameof(MistralModel));
        return new MistralModel(config, weights, backend);
    }
}
