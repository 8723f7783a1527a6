namespace Folio.Structured;

/// <summary>
/// A deterministic automaton over bytes, trimmed: every state can still reach a final state, so "not dead" means
/// "a completion exists". The start state is never final (terminals never match the empty string; nullable
/// pieces are optional in the grammar instead).
/// </summary>
public sealed class ByteDfa
{
    internal ByteDfa(string key, byte[] classOf, int classCount, int[] next, bool[] final)
    {
        Key = key; _classOf = classOf; _classCount = classCount; _next = next; _final = final;
        IsEmptyLanguage = true;
        for (int c = 0; c < classCount; c++) if (next[c] >= 0) IsEmptyLanguage = false;
    }

    /// <summary>No non-empty string matches (after trimming, the start state has no way out).</summary>
    public bool IsEmptyLanguage { get; }

    private readonly byte[] _classOf;
    private readonly int _classCount;
    // _next[state * _classCount + class]: the next state, or -1 (dead).
    private readonly int[] _next;
    private readonly bool[] _final;

    /// <summary>Canonical text of the expression compiled; equal keys mean equal automata (same numbering).</summary>
    public string Key { get; }
    public int Start => 0;
    public int StateCount => _final.Length;

    public int Step(int state, byte b) => _next[state * _classCount + _classOf[b]];

    /// <summary>Bytes in runs of one class each (lo, hi, class), in byte order: every state steps a run's bytes alike.</summary>
    internal (byte Lo, byte Hi, int Class)[] ClassRuns => _classRuns ??= BuildClassRuns();

    private (byte, byte, int)[]? _classRuns;

    private (byte, byte, int)[] BuildClassRuns()
    {
        var runs = new List<(byte, byte, int)>();
        int start = 0;
        for (int b = 1; b <= 256; b++)
        {
            if (b < 256 && _classOf[b] == _classOf[start]) continue;
            runs.Add(((byte)start, (byte)(b - 1), _classOf[start]));
            start = b;
        }
        return [.. runs];
    }

    internal int StepClass(int state, int cls) => _next[state * _classCount + cls];

    // Per state, three words: the ASCII bytes of its main ASCII step (bytes 0–63, 64–127), and that step's target + 2
    // (0 until computed; 1 when every ASCII byte is dead) with bit 62 set when every non-ASCII character steps there too.
    private ulong[]? _ascii;

    /// <summary>
    /// <paramref name="state"/>'s main ASCII step: the target that the most ASCII bytes lead to (alive), and those bytes
    /// (bits of bytes 0–63, then 64–127; both 0 when every ASCII byte is dead). A string body steps most printable
    /// characters to itself (a counted one to the next count), so a token-trie subtree whose bytes all lie in the masks
    /// along that chain is allowed whole (<see cref="TerminalTokens"/>' walk). <c>EveryChar</c>: every well-formed
    /// character of 2–4 bytes steps to the same target too (<see cref="Utf8Prefix.StepsEveryCharTo"/>), so subtrees
    /// with non-ASCII characters qualify as well. Computed per state on first ask; thread-safe (one array, a state's
    /// words written before the word that marks them done).
    /// </summary>
    internal (ulong Lo, ulong Hi, int Target, bool EveryChar) MainAsciiStep(int state)
    {
        var words = Volatile.Read(ref _ascii);
        if (words is null)
        {
            Interlocked.CompareExchange(ref _ascii, new ulong[StateCount * 3], null);
            words = _ascii!;
        }
        int at = state * 3;
        ulong done = Volatile.Read(ref words[at + 2]);
        const ulong EveryCharBit = 1UL << 62;
        if (done != 0) return (words[at], words[at + 1], (int)(done & ~EveryCharBit) - 2, (done & EveryCharBit) != 0);
        // Bytes per target over the ASCII class runs; the target with the most wins (ties: the lowest byte's).
        int best = -1, bestBytes = 0;
        var runs = ClassRuns;
        foreach (var (first, last, cls) in runs)
        {
            if (first >= 128) break;
            int t = StepClass(state, cls);
            if (t < 0 || t == best) continue;
            int bytes = 0;
            foreach (var (f2, l2, c2) in runs)
            {
                if (f2 >= 128) break;
                if (StepClass(state, c2) == t) bytes += Math.Min((int)l2, 127) - f2 + 1;
            }
            if (bytes > bestBytes) { best = t; bestBytes = bytes; }
        }
        ulong lo = 0, hi = 0;
        if (best >= 0)
        {
            foreach (var (first, last, cls) in runs)
            {
                if (first >= 128) break;
                if (StepClass(state, cls) != best) continue;
                for (int b = first; b <= Math.Min((int)last, 127); b++)
                {
                    if (b < 64) lo |= 1UL << b;
                    else hi |= 1UL << (b - 64);
                }
            }
        }
        bool everyChar = best >= 0 && Utf8Prefix.StepsEveryCharTo(this, state, best);
        words[at] = lo;
        words[at + 1] = hi;
        Volatile.Write(ref words[at + 2], (ulong)(uint)(best + 2) | (everyChar ? EveryCharBit : 0UL));
        return (lo, hi, best, everyChar);
    }

    /// <summary>Approximate bytes held (tables, key, residual ids, self-loop words), for <see cref="DfaCache"/>'s budget.</summary>
    internal long Bytes => _next.Length * 4L + _final.Length * 29L + _classOf.Length + Key.Length * 2L + 64;

    // Residual ids of the states, given by the one TerminalTokenCache that walks this automaton (a compiler's automata
    // are its own): kept here, they live and go with the automaton. A dictionary keyed by automaton in the cache held
    // every automaton ever compiled, whatever the automaton cache had dropped.
    private sealed record OwnedIds(object Owner, int[] Ids);
    private OwnedIds? _residualIds;

    /// <summary>The residual-id slots of <paramref name="owner"/> (-1 = not yet given), or null when another cache owns them.</summary>
    internal int[]? ResidualIds(object owner)
    {
        var ids = Volatile.Read(ref _residualIds);
        if (ids is null)
        {
            var fresh = new OwnedIds(owner, Enumerable.Repeat(-1, StateCount).ToArray());
            ids = Interlocked.CompareExchange(ref _residualIds, fresh, null) ?? fresh;
        }
        return ReferenceEquals(ids.Owner, owner) ? ids.Ids : null;
    }
    public bool IsFinal(int state) => _final[state];
}
