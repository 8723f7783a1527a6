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
    // in the low 32 bits (0 until computed; 1 when every ASCII byte is dead), with bit 62 set once EveryChar is known
    // and bit 61 its value.
    private ulong[]? _ascii;
    private const ulong EveryCharKnown = 1UL << 62, EveryCharValue = 1UL << 61;

    private ulong[] AsciiWords()
    {
        var words = Volatile.Read(ref _ascii);
        if (words is not null) return words;
        Interlocked.CompareExchange(ref _ascii, new ulong[StateCount * 3], null);
        return _ascii!;
    }

    /// <summary>
    /// <paramref name="state"/>'s main ASCII step: the target that the most ASCII bytes lead to (alive), and those bytes
    /// (bits of bytes 0–63, then 64–127; both 0 when every ASCII byte is dead). A string body steps most printable
    /// characters to itself (a counted one to the next count), so a token-trie subtree whose bytes all lie in the masks
    /// along that chain is allowed whole (<see cref="TerminalTokens"/>' walk). Computed per state on first ask, in one
    /// pass over the ASCII class runs (a walk asks for every state it enters a subtree in: hundreds per key automaton);
    /// thread-safe (one array, a state's words written before the word that marks them done).
    /// </summary>
    internal (ulong Lo, ulong Hi, int Target) MainAsciiStep(int state)
    {
        var words = AsciiWords();
        int at = state * 3;
        ulong done = Volatile.Read(ref words[at + 2]);
        if (done != 0) return (words[at], words[at + 1], (int)(uint)done - 2);
        // Bytes per target over the ASCII class runs (few distinct targets: linear search); the most bytes win.
        var runs = ClassRuns;
        Span<int> targets = stackalloc int[Math.Min(runs.Length, 128)];
        Span<int> counts = stackalloc int[targets.Length];
        int distinct = 0, best = -1, bestBytes = 0;
        foreach (var (first, last, cls) in runs)
        {
            if (first >= 128) break;
            int t = StepClass(state, cls);
            if (t < 0) continue;
            int k = targets[..distinct].IndexOf(t);
            if (k < 0) { k = distinct++; targets[k] = t; counts[k] = 0; }
            counts[k] += Math.Min((int)last, 127) - first + 1;
            if (counts[k] > bestBytes) { best = t; bestBytes = counts[k]; }
        }
        ulong lo = 0, hi = 0;
        if (best >= 0)
        {
            foreach (var (first, last, cls) in runs)
            {
                if (first >= 128) break;
                if (StepClass(state, cls) != best) continue;
                int end = Math.Min((int)last, 127);
                // Bits first..end of the 128-bit pair.
                for (int b = first; b <= end; b++)
                {
                    if (b < 64) lo |= 1UL << b;
                    else hi |= 1UL << (b - 64);
                }
            }
        }
        words[at] = lo;
        words[at + 1] = hi;
        Volatile.Write(ref words[at + 2], (ulong)(uint)(best + 2));
        return (lo, hi, best);
    }

    /// <summary>
    /// Whether every well-formed character of 2–4 bytes steps <paramref name="state"/> to its main ASCII step's target
    /// too (<see cref="Utf8Prefix.StepsEveryCharTo"/>), so subtrees with non-ASCII characters qualify as well. Asked
    /// only where a subtree has bytes ≥ 128; computed once per state.
    /// </summary>
    internal bool EveryCharLikeAscii(int state)
    {
        var (_, _, target) = MainAsciiStep(state);
        var words = AsciiWords();
        int at = state * 3;
        ulong w = Volatile.Read(ref words[at + 2]);
        if ((w & EveryCharKnown) != 0) return (w & EveryCharValue) != 0;
        bool every = target >= 0 && Utf8Prefix.StepsEveryCharTo(this, state, target);
        // Racing writers compute the same value; the target bits are kept.
        Volatile.Write(ref words[at + 2], w | EveryCharKnown | (every ? EveryCharValue : 0UL));
        return every;
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
