using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// Mistral (<c>MistralForCausalLM</c>): the shared decoder (<see cref="DecoderModel"/>) with no bias on any
/// projection (transformers' Mistral has no <c>attention_bias</c> key, so one in the file is ignored). What sets
/// Mistral apart is <c>sliding_window</c>: each token attends only to the last W positions. A window that
/// covers the whole context (null, or ≥ <c>max_position_embeddings</c>) is plain causal attention and runs; a
/// shorter one is refused at load, since the paged attention here attends to every earlier position.
/// </summary>
public sealed class MistralModel : DecoderModel
{
    public static DecoderVariant Variant { get; } = new(QkvBias: false, OutputBias: false);

    private MistralModel(ModelConfig config, IWeightSource weights, IComputeBackend backend)
        : base(config, weights, backend, Variant)
    {
    }

    internal static new (string Field, string Reason)? Unsupported(ModelConfig config) => DecoderVariant.ShortSlidingWindow(config);

    /// <summary>Reads and checks every weight, uploading them to <paramref name="backend"/>; a sliding window
    /// shorter than the context is a <see cref="ModelFormatException"/>.</summary>
    public static new MistralModel Load(ModelConfig config, IWeightSource weights, IComputeBackend backend)
    {
        EnsureLoadable(config, ModelArchitecture.Mistral, nameof(MistralModel), Unsupported);
        return new MistralModel(config, weights, backend);
    }
}
