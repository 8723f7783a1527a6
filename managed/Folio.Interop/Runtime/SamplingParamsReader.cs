using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>folio_sampling_params → <see cref="SamplingParams"/>, checked field by field.</summary>
public static unsafe class SamplingParamsReader
{
    private const ulong MaxListEntries = 1 << 16;
    private const ulong MaxSaltBytes = 1 << 16;

    public static int Read(FolioSamplingParams* source, string function, out SamplingParams value) =>
        Read(source, function, out value, out _);

    /// <summary>Also the per-request options that are not sampling controls in the managed API (they are
    /// <c>LlmEngine.AddRequest</c>'s arguments): priority and the prefix-cache salt (ABI 1.2).</summary>
    public static int Read(FolioSamplingParams* source, string function, out SamplingParams value, out RequestOptions options)
    {
        value = null!;
        options = default;
        int s;
        if ((s = StructIo.Read(source, function, "params", "folio_sampling_params", Defaults.SamplingParams(), out FolioSamplingParams p)) != 0) return s;
        if ((s = Args.Flag(p.HasSeed, function, "params->has_seed")) != 0) return s;
        if ((s = Args.Flag(p.IgnoreEos, function, "params->ignore_eos")) != 0) return s;
        if (p.Logprobs < -1)
        {
            return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: params->logprobs is {p.Logprobs}; -1 (none) or 0..{SamplingParams.MaxLogprobs}");
        }
        if ((s = Args.Array(p.StopTokenIds, p.NumStopTokenIds, MaxListEntries, function, "params->stop_token_ids", "params->num_stop_token_ids")) != 0) return s;
        if ((s = Args.Array(p.Stop, p.NumStop, MaxListEntries, function, "params->stop", "params->num_stop")) != 0) return s;
        if ((s = Args.Array(p.StopLens, p.NumStop, MaxListEntries, function, "params->stop_lens", "params->num_stop")) != 0) return s;
        if (p.Reserved0 != 0)
        {
            return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: params->reserved0 is {p.Reserved0}; it must be 0");
        }
        string? salt = null;
        if (p.CacheSaltLen > 0)
        {
            if ((s = Args.Array(p.CacheSalt, p.CacheSaltLen, MaxSaltBytes, function, "params->cache_salt", "params->cache_salt_len")) != 0) return s;
            if ((s = Utf8Text.Decode(p.CacheSalt, p.CacheSaltLen, function, "params->cache_salt", out salt)) != 0) return s;
        }
        var stopIds = new ReadOnlySpan<int>(p.StopTokenIds, (int)p.NumStopTokenIds).ToArray();
        var stops = new string[p.NumStop];
        for (int i = 0; i < stops.Length; i++)
        {
            if ((s = Utf8Text.Decode(p.Stop[i], p.StopLens[i], function, $"params->stop[{i}]", out stops[i])) != 0) return s;
        }
        var candidate = new SamplingParams
        {
            N = p.N,
            MaxTokens = p.MaxTokens,
            MinTokens = p.MinTokens,
            Temperature = p.Temperature,
            TopP = p.TopP,
            TopK = p.TopK,
            MinP = p.MinP,
            PresencePenalty = p.PresencePenalty,
            FrequencyPenalty = p.FrequencyPenalty,
            RepetitionPenalty = p.RepetitionPenalty,
            Seed = p.HasSeed != 0 ? unchecked((long)p.Seed) : null,
            IgnoreEos = p.IgnoreEos != 0,
            Logprobs = p.Logprobs < 0 ? null : p.Logprobs,
            StopTokenIds = stopIds,
            Stop = stops,
            BeamWidth = p.BeamWidth,
            LengthPenalty = p.LengthPenalty,
        };
        if ((s = TokenConstraintsReader.Read(p, function, candidate, out candidate)) != 0) return s;
        try
        {
            candidate.Validate();
        }
        catch (ArgumentException e)
        {
            return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: params: {e.Message}");
        }
        value = candidate;
        options = new RequestOptions(p.Priority, new CacheKey(salt));
        return 0;
    }
}
