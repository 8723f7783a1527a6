using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// Qwen3 (<c>Qwen3ForCausalLM</c>): the shared decoder (<see cref="DecoderModel"/>) with an RMSNorm over each query
/// and each key head after the projections and before RoPE (<c>q_norm</c>, <c>k_norm</c>: one [head_dim] weight each,
/// shared by the heads, with the model's <c>rms_norm_eps</c>), as transformers' <c>Qwen3Attention</c> computes it.
/// Unlike Qwen2 the projections carry no bias unless <c>attention_bias</c> (then q, k, v <em>and</em> o, as Llama's).
/// <c>head_dim</c> is its own key (128 in the released models, which is not hidden / heads in most of them).
/// Sliding windows follow Qwen2's keys (<c>use_sliding_window</c>, <c>layer_types</c> / <c>max_window_layers</c>).
/// </summary>
public sealed class Qwen3Model : DecoderModel
{
    private Qwen3Model(ModelConfig config, IWeightSource weights, IComputeBackend backend)
        : base(config, weights, backend, Variant(config))
    {
    }

    public static DecoderVariant Variant(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new DecoderVariant(QkvBias: config.AttentionBias, OutputBias: config.AttentionBias, QkNorm: true);
    }

    /// <summary>Reads and checks every weight (the q/k norms included), uploading them to <paramref name="backend"/>.</summary>
    public static new Qwen3Model Load(ModelConfig config, IWeightSource weights, IComputeBackend backend)
    {
        EnsureLoadable(config, ModelArchitecture.Qwen3, nameof(Qwen3Model));
        return new Qwen3Model(config, weights, backend);
    }
}
