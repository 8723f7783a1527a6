using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Server;

/// <summary>
/// The request fields that map onto <see cref="SamplingParams"/>: OpenAI's (n, temperature, top_p, seed,
/// max_tokens, stop, presence/frequency penalties, logprobs) and vLLM's extras (top_k, min_p, repetition_penalty,
/// ignore_eos, min_tokens, stop_token_ids, priority, cache_salt). Ranges are checked here so that a bad value is
/// a 400 naming the field; the engine's own validation stays the last word.
/// </summary>
internal static class SamplingFields
{
    public const int MaxN = 64;
    public const int MaxTopLogprobs = 20;

    /// <summary>Everything but max_tokens, which needs the prompt length (<see cref="WithMaxTokens"/>).</summary>
    public static SamplingParams Read(RequestFields f, ServedModel model, int? topLogprobs)
    {
        var p = model.Defaults(new SamplingParams());
        int? topK = f.Int("top_k", -1, 1 << 20);
        p = p with
        {
            N = f.Int("n", 1, MaxN) ?? 1,
            Temperature = f.Float("temperature", 0, 100) ?? p.Temperature,
            TopP = f.Float("top_p", 1e-9, 1) ?? p.TopP,
            TopK = topK is int k ? Math.Max(k, 0) : p.TopK,   // vLLM's -1 and 0 both mean off
            MinP = f.Float("min_p", 0, 1) ?? p.MinP,
            Seed = f.Long("seed") ?? p.Seed,
            PresencePenalty = f.Float("presence_penalty", -2, 2) ?? p.PresencePenalty,
            FrequencyPenalty = f.Float("frequency_penalty", -2, 2) ?? p.FrequencyPenalty,
            RepetitionPenalty = f.Float("repetition_penalty", 1e-6, 100) ?? p.RepetitionPenalty,
            MinTokens = f.Int("min_tokens", 0) ?? 0,
            Stop = f.Strings("stop") is { } stop ? CheckStops(stop) : [],
            StopTokenIds = f.Ints("stop_token_ids") is { } ids ? CheckIds(ids, model.VocabSize) : [],
            IgnoreEos = f.Bool("ignore_eos") ?? false,
            Logprobs = topLogprobs,
        };
        return model.WithModelStops(p);
    }

    /// <summary>max_tokens (or chat's max_completion_tokens) against the context: a request that cannot fit is a
    /// 400 that says by how much, as vLLM's; without one, what is left of the context (vLLM's default), capped by
    /// <paramref name="defaultMax"/> (16 for completions, as OpenAI's).</summary>
    public static SamplingParams WithMaxTokens(SamplingParams p, int? maxTokens, int longestPrompt, ServedModel model, int? defaultMax)
    {
        int left = model.MaxModelLen - longestPrompt;
        if (left <= 0)
        {
            throw new ApiException(400,
                $"This model's maximum context length is {model.MaxModelLen} tokens. However, your prompt is {longestPrompt} tokens, " +
                "which leaves no room for a completion. Please reduce the length of the prompt.", "prompt");
        }
        if (maxTokens is int m && m > left)
        {
            throw new ApiException(400,
                $"This model's maximum context length is {model.MaxModelLen} tokens. However, you requested {longestPrompt + m} tokens " +
                $"({longestPrompt} in the prompt, {m} for the completion). Please reduce max_tokens to at most {left}.", "max_tokens");
        }
        int value = maxTokens ?? Math.Min(left, defaultMax ?? left);
        if (p.MinTokens > value)
            throw new ApiException(400, $"'min_tokens' ({p.MinTokens}) is above max_tokens ({value})", "min_tokens");
        return p with { MaxTokens = value };
    }

    public static (int Priority, CacheKey Key) ReadOptions(RequestFields f) =>
        (f.Int("priority") ?? 0, new CacheKey(f.String("cache_salt")));

    private static IReadOnlyList<string> CheckStops(IReadOnlyList<string> stops)
    {
        if (stops.Count > 16) throw new ApiException(400, $"'stop' has {stops.Count} strings; at most 16", "stop");
        foreach (var s in stops)
            if (s.Length == 0) throw new ApiException(400, "'stop' strings must not be empty", "stop");
        return stops;
    }

    private static IReadOnlyList<int> CheckIds(IReadOnlyList<int> ids, int vocabSize)
    {
        foreach (int id in ids)
            if ((uint)id >= (uint)vocabSize)
                throw new ApiException(400, $"'stop_token_ids' has {id}, outside the vocabulary (size {vocabSize})", "stop_token_ids");
        return ids;
    }
}
