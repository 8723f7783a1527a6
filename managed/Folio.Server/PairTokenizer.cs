using Folio.Core.Engine;

namespace Folio.Server;

/// <summary>The fake model's vocabulary as a tokenizer: FakeTextDecoder's 64 two-letter pieces "aa".."hh"
/// (id = first letter + 8 × second), so text in pairs of a..h round-trips; anything else is refused.</summary>
public sealed class PairTokenizer : IServedTokenizer
{
    public int[] Encode(string text, bool addSpecialTokens)
    {
        if (text.Length % 2 != 0) throw new ArgumentException($"odd length {text.Length}");
        var ids = new int[text.Length / 2];
        for (int i = 0; i < ids.Length; i++)
        {
            int a = text[2 * i] - 'a', b = text[2 * i + 1] - 'a';
            if ((uint)a >= 8 || (uint)b >= 8) throw new ArgumentException($"'{text.Substring(2 * i, 2)}' is not a pair of a..h");
            ids[i] = a + 8 * b;
        }
        return ids;
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var s = new System.Text.StringBuilder();
        foreach (int id in ids) s.Append(FakeTextDecoder.TextOf(id));
        return s.ToString();
    }
}
