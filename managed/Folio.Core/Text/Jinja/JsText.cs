using System.Text;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// String operations with JavaScript's definitions where they differ from .NET's, since the parity reference
/// (@huggingface/jinja) runs on JavaScript: its whitespace set (<c>\s</c>, <c>trim</c>) includes U+FEFF and
/// excludes U+0085. Case mapping is .NET's invariant simple mapping plus the one-to-many upper-casings of
/// ß and ŉ; JavaScript's other special casings (ligatures such as ﬀ, final sigma) are not replicated.
/// </summary>
internal static class JsText
{
    public static bool IsWhiteSpace(char c) =>
        c <= ' ' ? c == ' ' || (c >= '\t' && c <= '\r')
        : c > 127 && (c == '\u00a0' || c == '\u1680' || (c >= '\u2000' && c <= '\u200a') || c == '\u2028'
            || c == '\u2029' || c == '\u202f' || c == '\u205f' || c == '\u3000' || c == '\ufeff');

    public static string Trim(string s) => TrimEnd(TrimStart(s));

    public static string TrimStart(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhiteSpace(s[i]))
            i++;
        return s[i..];
    }

    public static string TrimEnd(string s)
    {
        int i = s.Length;
        while (i > 0 && IsWhiteSpace(s[i - 1]))
            i--;
        return s[..i];
    }

    /// <summary>Upper-cases as JavaScript's <c>toUpperCase</c>, including the one-to-many mappings templates may meet.</summary>
    public static string ToUpper(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            switch (c)
            {
                case 'ß': sb.Append("SS"); break;
                case 'ŉ': sb.Append("ʼN"); break;
                default: sb.Append(char.ToUpperInvariant(c)); break;
            }
        }
        return sb.ToString();
    }

    public static string ToLower(string s) => s.ToLowerInvariant();

    /// <summary>Upper-cases the first letter of every word (a word character after a non-word one), as <c>/\b\w/</c>.</summary>
    public static string TitleCase(string s)
    {
        var chars = s.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (IsAsciiWord(chars[i]) && (i == 0 || !IsAsciiWord(chars[i - 1])))
                chars[i] = char.ToUpperInvariant(chars[i]);
        }
        return new string(chars);
    }

    public static bool IsAsciiWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
