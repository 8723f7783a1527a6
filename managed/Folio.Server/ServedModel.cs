using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Server;

/// <summary>
/// What the server serves: one engine (its chat template is <see cref="LlmEngine.ChatTemplate"/>), the model's
/// tokenizer, its limits and its request defaults. Built by the host (<c>folio serve</c>, or a test).
/// </summary>
public sealed class ServedModel
{
    /// <summary>The name clients send as "model" (--served-model-name, else the model's name).</summary>
    public required string Name { get; init; }

    public required LlmEngine Engine { get; init; }

    public required IServedTokenizer Tokenizer { get; init; }

    /// <summary>Prompt plus generated tokens may not exceed this (max_position_embeddings).</summary>
    public required int MaxModelLen { get; init; }

    public required int VocabSize { get; init; }

    /// <summary>A request's parameters as the model completes them (generation_config defaults are applied by
    /// the caller; this adds the model's extra EOS ids as stop token ids). Identity by default.</summary>
    public Func<SamplingParams, SamplingParams> WithModelStops { get; init; } = static p => p;

    /// <summary>generation_config.json's defaults on top of <see cref="SamplingParams"/>'s (identity by default).</summary>
    public Func<SamplingParams, SamplingParams> Defaults { get; init; } = static p => p;

    /// <summary>Unix seconds when the server started (GET /v1/models' "created").</summary>
    public long Created { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
