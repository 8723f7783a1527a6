using System.Numerics;

namespace Folio.Core.Sampling;

/// <summary>
/// The token constraints of one logits row, as <see cref="LogitsSampler.Prepare"/> applies them before penalties
/// and temperature (vLLM's order): the structured output's mask and allowed_token_ids set every other token to −∞,
/// a token that would complete a bad word is −∞, then the logit biases are added. Default = no constraint.
/// </summary>
public readonly ref struct LogitsConstraints
{
    private readonly RequestConstraints? _request;
    private readonly ReadOnlySpan<ulong> _grammarMask;

    internal LogitsConstraints(RequestConstraints? request, ReadOnlySpan<ulong> grammarMask)
    {
        _request = request;
        _grammarMask = grammarMask;
    }

    public bool IsEmpty => _request is null;

    /// <summary>The structured output's mask for this row (empty when the request has none).</summary>
    public ReadOnlySpan<ulong> GrammarMask => _grammarMask;

    /// <summary>Applies the constraints to <paramref name="logits"/>; <paramref name="generated"/> is the
    /// sequence's output so far (bad words of several tokens are banned only after their prefix).</summary>
    internal void Apply(Span<float> logits, ReadOnlySpan<int> generated)
    {
        var r = _request;
        if (r is null)
            return;
        if (r.Grammar is not null)
            KeepOnly(logits, _grammarMask);
        if (r.Allowed is { } allowed)
            KeepOnly(logits, allowed);
        if (r.BadWords is { } badWords)
        {
            foreach (int[] word in badWords)
            {
                int prefix = word.Length - 1;
                if (prefix > generated.Length)
                    continue;
                if (generated[^prefix..].SequenceEqual(word.AsSpan(0, prefix)) && (uint)word[prefix] < (uint)logits.Length)
                    logits[word[prefix]] = float.NegativeInfinity;
            }
        }
        if (r.BiasIds is { } ids)
        {
            var values = r.BiasValues!;
            for (int i = 0; i < ids.Length; i++)
                if ((uint)ids[i] < (uint)logits.Length)
                    logits[ids[i]] += values[i];
        }
    }

    /// <summary>Sets every token whose bit is clear (or past the mask) to −∞.</summary>
    private static void KeepOnly(Span<float> logits, ReadOnlySpan<ulong> mask)
    {
        int n = logits.Length;
        int words = Math.Min(mask.Length, (n + 63) / 64);
        for (int w = 0; w < words; w++)
        {
            ulong banned = ~mask[w];
            int baseId = w * 64;
            while (banned != 0)
            {
                int id = baseId + BitOperations.TrailingZeroCount(banned);
                if (id >= n)
                    break;
                logits[id] = float.NegativeInfinity;
                banned &= banned - 1;
            }
        }
        if (words * 64 < n)
            logits[(words * 64)..].Fill(float.NegativeInfinity);
    }
}
