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

    /// <summary>Approximate bytes held (tables, key, residual ids), for <see cref="DfaCache"/>'s budget.</summary>
    internal long Bytes => _next.Length * 4L + _final.Length * 5L + _classOf.Length + Key.Length * 2L + 64;

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
