using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// Phi-3 (<c>Phi3ForCausalLM</c>: Phi-3-mini/medium, Phi-4): the shared decoder (<see cref="DecoderModel"/>) with q/k/v
/// stored as one <c>qkv_proj</c> and gate/up as one <c>gate_up_proj</c> (already the row order Folio fuses the others
/// into), no biases, and <c>sliding_window</c> in every layer when set (transformers' Phi3 masks as Mistral's). RoPE
/// over part of each head (<c>partial_rotary_factor</c>, Phi-4-mini) and the long-context <c>longrope</c> scaling are
/// refused when the config is read.
/// </summary>
public sealed class Phi3Model : DecoderModel
{
    public static DecoderVariant Variant { get; } = new(QkvBias: false, OutputBias: false, FusedProjections: true);

    private Phi3Model(ModelConfig config, IWeightSource weights, IComputeBackend backend)
        : base(config, weights, backend, Variant)
    {
    }

    /// <summary>Reads and checks every weight (the fused projections as stored), uploading them to <paramref name="backend"/>.</summary>
    public static new Phi3Model Load(ModelConfig config, IWeightSource weights, IComputeBackend backend)
    {
        EnsureLoadable(config, ModelArchitecture.Phi3, nameof(Phi3Model));
        return new Phi3Model(config, weights, backend);
    }
}
