using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// Qwen2 (<c>Qwen2ForCausalLM</c>): the shared decoder (<see cref="DecoderModel"/>) with a bias on the q, k and
/// v projections, always (not the o projection; there is no <c>attention_bias</c> key). Small Qwen2 checkpoints
/// usually tie <c>lm_head</c> to <c>embed_tokens</c> (<c>tie_word_embeddings</c>), which the shared loader
/// handles. Sliding-window attention is off unless <c>use_sliding_window</c>; when on, the layers that
/// <c>layer_types</c> (or <c>max_window_layers</c>) marks attend to the last <c>sliding_window</c> positions only
/// (<see cref="ModelConfig.AttentionWindow"/>).
/// </summary>
public sealed class Qwen2Model : DecoderModel
{
    public static DecoderVariant Variant { get; } = new(QkvBias: true, OutputBias: false);

    private Qwen2Model(ModelConfig config, IWeightSource weights, IComputeBackend backend)
        : base(config, weights, backend, Variant)
    {
    }

    /// <summary>Reads and checks every weight (q/k/v biases included), uploading them to <paramref name="backend"/>.</summary>
    public static new Qwen2Model Load(ModelConfig config, IWeightSource weights, IComputeBackend backend)
    {
        EnsureLoadable(config, ModelArchitecture.Qwen2, nameof(Qwen2Model));
        return new Qwen2Model(config, weights, backend);
    }
}
