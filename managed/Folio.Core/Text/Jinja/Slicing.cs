namespace Folio.Core.Text.Jinja;

/// <summary>
/// Python's slice <c>[start:stop:step]</c> (negative indices count from the end; a negative step walks
/// backwards; bounds clamp). Strings slice by code point, as @huggingface/jinja does (<c>Array.from</c>).
/// </summary>
internal static class Slicing
{
    public static List<T> Slice<T>(IReadOnlyList<T> items, long? start, long? stop, long? step)
    {
        long s = step ?? 1;
        if (s == 0)
            throw new JinjaError("slice step cannot be zero");
        long n = items.Count;
        long first, last;
        if (s > 0)
        {
            first = start is { } a ? (a < 0 ? Math.Max(n + a, 0) : Math.Min(a, n)) : 0;
            last = stop is { } b ? (b < 0 ? Math.Max(n + b, 0) : Math.Min(b, n)) : n;
        }
        else
        {
            first = start is { } a ? (a < 0 ? Math.Max(n + a, -1) : Math.Min(a, n - 1)) : n - 1;
            last = stop is { } b ? (b < -1 ? Math.Max(n + b, -1) : Math.Min(b, n - 1)) : -1;
        }
        var result = new List<T>();
        for (long i = first; s > 0 ? i < last : i > last; i += s)
            result.Add(items[(int)i]);
        return result;
    }

    /// <summary>The code points of <paramref name="s"/> (a lone surrogate stands alone).</summary>
    public static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(s.Substring(i, 2));
                i++;
            }
            else
                result.Add(s[i].ToString());
        }
        return result;
    }
}
