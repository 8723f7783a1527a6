using System.Globalization;
using System.Text.RegularExpressions;

namespace Folio.Core.Models;

/// <summary>
/// A Hugging Face <c>Split</c> (behavior Isolated, invert false) over a regex, with added tokens cut out first, as
/// <c>tokenizers</c> does. The Rust regex sees code points, .NET's sees UTF-16 units: a character outside the BMP
/// (an emoji, a math letter) is two surrogates of category Cs to .NET, so <c>[^\r\n\p{L}\p{N}]?\p{L}+</c> would
/// split "🙂abc" differently. The regex therefore runs over a folded copy of the text with one char per code point
/// — astral letters, digits and others replaced by a BMP stand-in of the same class — and its matches are mapped
/// back to the original offsets. Text between matches stays a piece of its own (Isolated keeps it).
/// </summary>
internal sealed class CodePointRegexPreTokenizer
{
    // Stand-ins: a letter no contraction alternative ('s, 't, ...) can match, a digit, and a private-use char
    // (neither letter, digit, whitespace nor line break).
    private const char AstralLetter = '\u4E00';
    private const char AstralNumber = '0';
    private const char AstralOther = '\uE000';

    private readonly Regex _split;
    private readonly Regex? _special;
    private readonly IReadOnlyDictionary<string, int>? _specialIds;

    public CodePointRegexPreTokenizer(Regex split, IReadOnlyDictionary<string, int>? specialTokens)
    {
        _split = split;
        _specialIds = specialTokens;
        if (specialTokens is { Count: > 0 })
            // Longest first, so that a token that is a prefix of another never wins.
            _special = new Regex(string.Join("|", specialTokens.Keys.OrderByDescending(k => k.Length).ThenBy(k => k, StringComparer.Ordinal)
                .Select(Regex.Escape)), RegexOptions.CultureInvariant);
    }

    /// <summary>The pieces of <paramref name="text"/> in order; AddedId is the added token's id for a piece cut
    /// out as one, −1 for a regex piece (which is never looked up as an added token, as in tokenizers).</summary>
    public List<(int Offset, int Length, int AddedId)> PreTokenize(string text)
    {
        var pieces = new List<(int, int, int)>();
        int at = 0;
        if (_special is not null)
            for (var m = _special.Match(text); m.Success; m = m.NextMatch())
            {
                SplitSegment(text, at, m.Index, pieces);
                pieces.Add((m.Index, m.Length, _specialIds![m.Value]));
                at = m.Index + m.Length;
            }
        SplitSegment(text, at, text.Length, pieces);
        return pieces;
    }

    private void SplitSegment(string text, int start, int end, List<(int, int, int)> pieces)
    {
        if (start >= end)
            return;
        var folded = new char[end - start];
        var offsets = new int[end - start + 1];   // original offset of each folded char, and the segment's end
        int n = 0;
        for (int i = start; i < end; i++)
        {
            offsets[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < end && char.IsLowSurrogate(text[i + 1]))
            {
                folded[n++] = Char.ConvertToUtf32(text[i], text[i + 1]) is int cp ? StandIn(CharUnicodeInfo.GetUnicodeCategory(cp)) : AstralOther;
                i++;
            }
            else
                folded[n++] = char.IsSurrogate(text[i]) ? AstralOther : text[i];
        }
        offsets[n] = end;
        string s = new(folded, 0, n);
        int last = 0;
        for (var m = _split.Match(s); m.Success; m = m.NextMatch())
        {
            if (m.Length == 0)
                continue;
            if (m.Index > last)
                pieces.Add((offsets[last], offsets[m.Index] - offsets[last], -1));
            pieces.Add((offsets[m.Index], offsets[m.Index + m.Length] - offsets[m.Index], -1));
            last = m.Index + m.Length;
        }
        if (last < n)
            pieces.Add((offsets[last], offsets[n] - offsets[last], -1));
    }

    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => AstralLetter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => AstralNumber,
        _ => AstralOther,
    };
}
