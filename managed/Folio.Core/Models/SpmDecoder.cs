using System.Text;

namespace Folio.Core.Models;

/// <summary>
/// A tokenizer.json decoder chain for SentencePiece-style models, as the Rust <c>tokenizers</c> crate runs it:
/// each step maps the list of token strings to a new list, and the result is their concatenation. Steps:
/// <c>Replace</c> (a literal pattern), <c>ByteFallback</c> (runs of <c>&lt;0xNN&gt;</c> tokens become their UTF-8
/// text, or one U+FFFD per byte when the run is not valid UTF-8), <c>Fuse</c>, <c>Strip</c> and <c>Metaspace</c>.
/// </summary>
internal sealed class SpmDecoder(IReadOnlyList<SpmDecoder.Step> steps)
{
    public abstract record Step;
    public sealed record Replace(string Pattern, string Content) : Step;
    public sealed record ByteFallback : Step;
    public sealed record Fuse : Step;
    public sealed record Strip(char Content, int Start, int Stop) : Step;
    public sealed record Metaspace(char Replacement, bool StripFirst) : Step;

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public string Decode(List<string> tokens)
    {
        foreach (var step in steps)
            tokens = step switch
            {
                Replace r => tokens.ConvertAll(t => t.Replace(r.Pattern, r.Content, StringComparison.Ordinal)),
                ByteFallback => Bytes(tokens),
                Fuse => [string.Concat(tokens)],
                Strip s => tokens.ConvertAll(t => StripToken(t, s)),
                Metaspace m => MetaspaceTokens(tokens, m),
                _ => tokens,
            };
        return string.Concat(tokens);
    }

    /// <summary>The byte of a <c>&lt;0xNN&gt;</c> token (either hex case), else null.</summary>
    public static int? ParseByteToken(string token)
    {
        if (token.Length != 6 || !token.StartsWith("<0x", StringComparison.Ordinal) || token[5] != '>')
            return null;
        int hi = HexDigit(token[3]), lo = HexDigit(token[4]);
        return hi < 0 || lo < 0 ? null : hi * 16 + lo;
    }

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static List<string> Bytes(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var run = new List<byte>();
        void Flush()
        {
            if (run.Count == 0)
                return;
            if (TryUtf8([.. run], out string? text))
                result.Add(text);
            else
                for (int i = 0; i < run.Count; i++)
                    result.Add("\uFFFD");
            run.Clear();
        }
        foreach (string t in tokens)
        {
            if (ParseByteToken(t) is int b)
            {
                run.Add((byte)b);
                continue;
            }
            Flush();
            result.Add(t);
        }
        Flush();
        return result;
    }

    private static bool TryUtf8(byte[] bytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        // Expected outcome (invalid bytes), checked without exceptions first; the strict decode then cannot fail.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            text = null;
            return false;
        }
        text = StrictUtf8.GetString(bytes);
        return true;
    }

    private static string StripToken(string t, Strip s)
    {
        int start = 0;
        while (start < s.Start && start < t.Length && t[start] == s.Content)
            start++;
        int end = t.Length, cut = 0;
        while (cut < s.Stop && end > start && t[end - 1] == s.Content)
        {
            end--;
            cut++;
        }
        return t[start..end];
    }

    private static List<string> MetaspaceTokens(List<string> tokens, Metaspace m)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            var sb = new StringBuilder(tokens[i].Length);
            foreach (char c in tokens[i])
                if (c != m.Replacement)
                    sb.Append(c);
                else if (!(i == 0 && m.StripFirst))   // the first token loses every replacement, as in tokenizers
                    sb.Append(' ');
            result.Add(sb.ToString());
        }
        return result;
    }
}
