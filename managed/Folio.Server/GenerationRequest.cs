using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Server;

/// <summary>A parsed /v1/completions or /v1/chat/completions request: its prompts as token ids and how to run them.</summary>
internal sealed record GenerationRequest(
    IReadOnlyList<int[]> Prompts,
    SamplingParams Sampling,
    bool Stream,
    bool IncludeUsage,
    int Priority,
    CacheKey CacheKey,
    /// <summary>Top logprobs per token to return (completions' logprobs, chat's top_logprobs), or null for none.</summary>
    int? TopLogprobs);
