using System.Text;
using System.Text.Json;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Streams each corpus line's ids through <see cref="IncrementalDetokenizer"/> one token at a time, as the
/// engine does, and collects the lines whose pieces do not join into HF's decoded text or that emit a broken
/// character (U+FFFD or half a surrogate pair) on the way.
/// </summary>
internal static class StreamingParity
{
    /// <returns>The failing lines (described), and how many tokens added no text yet (held back).</returns>
    public static (List<string> Failures, int HeldBack) Check(
        TextTokenizer tokenizer, IEnumerable<(string Text, int[] Ids, string Decoded)> lines)
    {
        var failures = new List<string>();
        int heldBack = 0;
        foreach (var (text, ids, decoded) in lines)
        {
            var detokenizer = new IncrementalDetokenizer(tokenizer);
            var streamed = new StringBuilder();
            bool broken = false;
            for (int n = 1; n <= ids.Length; n++)
            {
                string piece = detokenizer.DecodeLast(ids.AsSpan(0, n));
                broken |= piece.Contains('\uFFFD') || (piece.Length > 0 && (char.IsLowSurrogate(piece[0]) || char.IsHighSurrogate(piece[^1])));
                if (piece.Length == 0)
                    heldBack++;
                streamed.Append(piece);
            }
            if (broken || streamed.ToString() != decoded)
                failures.Add($"{JsonSerializer.Serialize(text)} streamed {JsonSerializer.Serialize(streamed.ToString())}");
        }
        return (failures, heldBack);
    }
}
