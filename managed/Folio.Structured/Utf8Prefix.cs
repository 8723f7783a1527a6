namespace Folio.Structured;

/// <summary>
/// The well-formed UTF-8 byte sequences (surrogates and overlong forms excluded), as a small automaton over where a
/// sequence is inside its character: <see cref="Boundary"/> between characters, 1–7 inside one (how many
/// continuation bytes are left, and the narrowed range of the first one after E0, ED, F0, F4). Used to skip a
/// token-trie subtree whose every path is well-formed (<see cref="TokenTrie.Utf8Below"/>) when the automaton steps
/// every character alike (<see cref="StepsEveryCharTo"/>).
/// </summary>
internal static class Utf8Prefix
{
    public const int Boundary = 0;
    public const int States = 8;

    /// <summary>The position after byte <paramref name="b"/> from <paramref name="q"/>, or -1 where the sequence is not
    /// well-formed.</summary>
    public static int Step(int q, byte b)
    {
        switch (q)
        {
            case 0:
                if (b < 0x80) return 0;
                if (b >= 0xC2 && b <= 0xDF) return 1;
                if (b == 0xE0) return 4;
                if (b == 0xED) return 5;
                if (b >= 0xE1 && b <= 0xEF) return 2;
                if (b == 0xF0) return 6;
                if (b >= 0xF1 && b <= 0xF3) return 3;
                if (b == 0xF4) return 7;
                return -1;
            case 1: return b is >= 0x80 and <= 0xBF ? 0 : -1;
            case 2: return b is >= 0x80 and <= 0xBF ? 1 : -1;
            case 3: return b is >= 0x80 and <= 0xBF ? 2 : -1;
            case 4: return b is >= 0xA0 and <= 0xBF ? 1 : -1;
            case 5: return b is >= 0x80 and <= 0x9F ? 1 : -1;
            case 6: return b is >= 0x90 and <= 0xBF ? 2 : -1;
            default: return b is >= 0x80 and <= 0x8F ? 2 : -1;
        }
    }

    /// <summary>
    /// Whether every character of two to four bytes takes <paramref name="dfa"/> from <paramref name="state"/> to
    /// <paramref name="target"/>, alive at every byte and through states that are not final (a string body: any
    /// non-ASCII character is one more character of it). A search over (position in the character, automaton state)
    /// pairs; false past 64 pairs (not a plain "any character" state).
    /// </summary>
    public static bool StepsEveryCharTo(ByteDfa dfa, int state, int target)
    {
        const int MaxPairs = 64;
        // Pairs seen (q << 32 | s), pushed once each; the first `done` of them were expanded. No allocation: asked once
        // per automaton state, for every state a walk's chain passes (a counted string's hundreds of lengths).
        Span<long> pairs = stackalloc long[MaxPairs];
        int count = 0;
        for (int b = 0xC2; b <= 0xF4; b++)
        {
            int q = Step(Boundary, (byte)b);
            if (q < 0) continue;
            int s = dfa.Step(state, (byte)b);
            if (s < 0) return false;
            if (!Add(pairs, ref count, ((long)q << 32) | (uint)s)) return false;
        }
        for (int done = 0; done < count; done++)
        {
            int q = (int)(pairs[done] >> 32), s = (int)pairs[done];
            if (dfa.IsFinal(s)) return false;
            for (int b = 0x80; b <= 0xBF; b++)
            {
                int q2 = Step(q, (byte)b);
                if (q2 < 0) continue;
                int s2 = dfa.Step(s, (byte)b);
                if (s2 < 0) return false;
                if (q2 == Boundary)
                {
                    if (s2 != target) return false;
                    continue;
                }
                if (!Add(pairs, ref count, ((long)q2 << 32) | (uint)s2)) return false;
            }
        }
        return true;
    }

    /// <summary>Adds <paramref name="pair"/> unless present; false when the span is full.</summary>
    private static bool Add(Span<long> pairs, ref int count, long pair)
    {
        if (pairs[..count].Contains(pair)) return true;
        if (count == pairs.Length) return false;
        pairs[count++] = pair;
        return true;
    }
}
