using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// Llama (1/2/3; <c>LlamaForCausalLM</c>): the shared decoder (<see cref="DecoderModel"/>) as it is, with
/// Llama-3 RoPE scaling when the config asks for it (<see cref="RopeScaling"/>). <c>attention_bias</c> puts
/// a bias on the q, k, v <em>and</em> o projections, as transformers' <c>LlamaAttention</c> does.
/// No sliding window exists in this architecture.
/// </summary>
public sealed class LlamaModel : DecoderModel
{
    private LlamaModel(ModelConfig config, IWeightSource weights, IComputeBackend backend)
        : base(config, weights, backend, Variant(config))
    {
    }

    public static DecoderVariant Variant(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new DecoderVariant(QkvBias: config.AttentionBias, OutputBias: config.AttentionBias);
    }

    /// <summary>Reads and checks every weight, uploading them to <paramref name="backend"/>.</summary>
    public static new LlamaModel Load(ModelConfig config, IWeightSource weights, IComputeBackend backend)
    {
        EnsureLoadable(config, ModelArchitecture.Llama, nameof(LlamaModel));
        return new LlamaModel(config, weights, backend);
    }
}
