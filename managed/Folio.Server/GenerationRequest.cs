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
    /// <summary>Top logprobs per token to return (completions' logprobs, chat's top_logprobs; chat's logprobs: true
    /// without top_logprobs is 0), or null when the request asked for no logprobs.</summary>
    int? TopLogprobs,
    /// <summary>Completions' echo: each prompt's text, put before its choices' text; null without echo.</summary>
    IReadOnlyList<string>? EchoTexts = null);
