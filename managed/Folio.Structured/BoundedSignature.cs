namespace Folio.Structured;

/// <summary>
/// What an automaton does from one state on strings of at most <see cref="Depth"/> bytes, written canonically: the
/// states reached within that many bytes numbered breadth-first, each with its finality and, when it was reached in
/// fewer than <see cref="Depth"/> bytes, its transitions as maximal byte runs. Two states with equal signatures walk
/// every string of at most <see cref="Depth"/> bytes alike (dead, alive or final at each byte, through states of
/// equal number), so a token-trie walk to that depth from one serves the other. A string with <c>maxLength</c> 255 has
/// 255 distinct residuals (<see cref="ResidualSignature"/> cannot share them), but every state with at least
/// <see cref="Depth"/> characters left has the same bounded signature: it shares one walk of the tokens up to that
/// length, and only the few longer tokens are walked per state (<see cref="TerminalTokens.BuildBounded"/>).
/// </summary>
internal static class BoundedSignature
{
    /// <summary>Bytes of lookahead: Llama 3's tokens are at most 16 bytes long but for ~1,500 of its 128k.</summary>
    public const int Depth = 16;

    /// <summary>Reachable sets larger than this get no signature.</summary>
    public const int MaxStates = 2048;

    /// <summary>
    /// The signature of <paramref name="state"/> (null past <see cref="MaxStates"/>); <paramref name="order"/> receives
    /// the states in their breadth-first numbering (the frontier of a shared walk names states by that number).
    /// </summary>
    public static int[]? Of(ByteDfa dfa, int state, List<int> order)
    {
        order.Clear();
        var index = new Dictionary<int, int> { [state] = 0 };
        var depth = new List<int> { 0 };
        order.Add(state);
        var text = new List<int>(256);
        var runs = dfa.ClassRuns;
        for (int i = 0; i < order.Count; i++)
        {
            int s = order[i];
            bool expand = depth[i] < Depth;
            text.Add((dfa.IsFinal(s) ? 1 : 0) | (expand ? 2 : 0));
            if (!expand) continue;
            int runStart = 0, runTarget = -1;
            foreach (var (lo, _, cls) in runs)
            {
                int q = dfa.StepClass(s, cls), t = -1;
                if (q >= 0 && !index.TryGetValue(q, out t))
                {
                    if (order.Count >= MaxStates) return null;
                    t = order.Count;
                    index[q] = t;
                    order.Add(q);
                    depth.Add(depth[i] + 1);
                }
                if (t == runTarget) continue;
                if (runTarget >= 0) { text.Add(runStart); text.Add(lo - 1); text.Add(runTarget); }
                runStart = lo;
                runTarget = t;
            }
            if (runTarget >= 0) { text.Add(runStart); text.Add(255); text.Add(runTarget); }
            text.Add(-1);
        }
        return [.. text];
    }

    /// <summary>Compares signatures by content (they key a dictionary).</summary>
    public sealed class Comparer : IEqualityComparer<int[]>
    {
        public static readonly Comparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] a)
        {
            var h = new HashCode();
            h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
            return h.ToHashCode();
        }
    }
}
