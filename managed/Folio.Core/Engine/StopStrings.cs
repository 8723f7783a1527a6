using System.Text;

namespace Folio.Core.Engine;

/// <summary>The hold-back rule of streamed text (the match itself is <see cref="Sampling.StopConditions.FindStopString"/>).</summary>
internal static class StopStrings
{
    /// <summary>
    /// How many characters at the end of <paramref name="text"/> could still begin a stop string: the longest
    /// suffix that is a proper prefix of one of <paramref name="stops"/>. Only these are held back; a later match
    /// that ends in later text can begin no earlier than this suffix, so text handed out is never trimmed.
    /// </summary>
    public static int HeldBack(StringBuilder text, IReadOnlyList<string> stops)
    {
        int best = 0;
        for (int s = 0; s < stops.Count; s++)
        {
            string stop = stops[s];
            for (int k = Math.Min(stop.Length - 1, text.Length); k > best; k--)
            {
                if (EndsWithPrefix(text, stop, k))
                {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    private static bool EndsWithPrefix(StringBuilder text, string stop, int k)
    {
        int start = text.Length - k;
        for (int i = 0; i < k; i++)
        {
            if (text[start + i] != stop[i])
                return false;
        }
        return true;
    }
}
