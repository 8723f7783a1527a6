namespace Folio.Structured;

/// <summary>Code point ranges as UTF-8 byte-range sequences, so that automata run over bytes (token strings may
/// split a character).</summary>
internal static class Utf8Ranges
{
    /// <summary>Appends to <paramref name="output"/> the byte-range sequences that together encode exactly [lo, hi]
    /// (surrogates excluded).</summary>
    public static void Split(int lo, int hi, List<(byte Lo, byte Hi)[]> output)
    {
        if (lo > hi) return;
        if (lo <= 0xDFFF && hi >= 0xD800)
        {
            Split(lo, 0xD7FF, output);
            Split(0xE000, hi, output);
            return;
        }
        foreach (int max in (ReadOnlySpan<int>)[0x7F, 0x7FF, 0xFFFF])
        {
            if (lo <= max && hi > max)
            {
                Split(lo, max, output);
                Split(max + 1, hi, output);
                return;
            }
        }
        if (hi <= 0x7F)
        {
            output.Add([((byte)lo, (byte)hi)]);
            return;
        }
        int n = hi <= 0x7FF ? 2 : hi <= 0xFFFF ? 3 : 4;
        // Split until the continuation bytes span full ranges below the first differing byte.
        for (int i = 1; i < n; i++)
        {
            int m = (1 << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m))
            {
                if ((lo & m) != 0)
                {
                    Split(lo, lo | m, output);
                    Split((lo | m) + 1, hi, output);
                    return;
                }
                if ((hi & m) != m)
                {
                    Split(lo, (hi & ~m) - 1, output);
                    Split(hi & ~m, hi, output);
                    return;
                }
            }
        }
        Span<byte> a = stackalloc byte[4], b = stackalloc byte[4];
        Encode(lo, a);
        Encode(hi, b);
        var seq = new (byte, byte)[n];
        for (int i = 0; i < n; i++) seq[i] = (a[i], b[i]);
        output.Add(seq);
    }

    private static void Encode(int c, Span<byte> dst)
    {
        if (c <= 0x7F) { dst[0] = (byte)c; }
        else if (c <= 0x7FF) { dst[0] = (byte)(0xC0 | (c >> 6)); dst[1] = (byte)(0x80 | (c & 0x3F)); }
        else if (c <= 0xFFFF)
        {
            dst[0] = (byte)(0xE0 | (c >> 12)); dst[1] = (byte)(0x80 | ((c >> 6) & 0x3F)); dst[2] = (byte)(0x80 | (c & 0x3F));
        }
        else
        {
            dst[0] = (byte)(0xF0 | (c >> 18)); dst[1] = (byte)(0x80 | ((c >> 12) & 0x3F));
            dst[2] = (byte)(0x80 | ((c >> 6) & 0x3F)); dst[3] = (byte)(0x80 | (c & 0x3F));
        }
    }
}
