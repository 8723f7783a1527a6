using System.Text;

namespace Folio.Core.Sampling;

/// <summary>
/// The stop rules applied after each sampled token, in vLLM's order: nothing stops a sequence before
/// min_tokens; then the end-of-sequence token (unless ignore_eos), stop token ids, stop strings; then max_tokens.
/// </summary>
public static class StopConditions
{
    /// <summary>
    /// Checks the token rules for a token just appended, <paramref name="numGenerated"/> being the output length
    /// including it. Returns Stop (with the matching stop id, or -1 for EOS), Length, or None.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static FinishReason CheckToken(in StopRules rules, int token, int numGenerated, int eosTokenId, out int stopTokenId)
    {
        stopTokenId = -1;
        if (numGenerated >= rules.MinTokens)
        {
            if (token == eosTokenId && !rules.IgnoreEos)
                return FinishReason.Stop;
            if (rules.StopTokenIds.Length != 0 && rules.StopTokenIds.IndexOf(token) >= 0)
            {
                stopTokenId = token;
                return FinishReason.Stop;
            }
        }
        return numGenerated >= rules.MaxTokens ? FinishReason.Length : FinishReason.None;
    }

    /// <summary>Whether the stop rules may end a sequence that has generated <paramref name="numGenerated"/> tokens.</summary>
    public static bool StopsAllowed(SamplingParams p, int numGenerated) => numGenerated >= p.MinTokens;

    /// <summary>
    /// Looks for a stop string in <paramref name="text"/> that ends at or after <paramref name="newTextStart"/>
    /// (the text the last token added; a match may begin in earlier text, so strings split across tokens are
    /// found). Returns the index where the earliest such match begins and the string, or -1.
    /// </summary>
    public static int FindStopString(SamplingParams p, StringBuilder text, int newTextStart, out string? matched)
    {
        matched = null;
        int best = -1;
        var stops = p.Stop;
        for (int s = 0; s < stops.Count; s++)
        {
            string stop = stops[s];
            // A match ending inside the new text starts no earlier than newTextStart - stop.Length + 1.
            int from = Math.Max(0, newTextStart - stop.Length + 1);
            int at = IndexOf(text, stop, from);
            if (at >= 0 && (best < 0 || at < best))
            {
                best = at;
                matched = stop;
            }
        }
        return best;
    }

    private static int IndexOf(StringBuilder text, string value, int from)
    {
        int last = text.Length - value.Length;
        for (int i = from; i <= last; i++)
        {
            int j = 0;
            while (j < value.Length && text[i + j] == value[j])
                j++;
            if (j == value.Length)
                return i;
        }
        return -1;
    }
}
