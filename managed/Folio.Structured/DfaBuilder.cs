namespace Folio.Structured;

/// <summary>
/// Expression (no rule references) → byte NFA (Thompson) → DFA (subset construction over byte classes) → trimmed,
/// with the empty string removed from the language. Refuses automata past a size cap instead of running away.
/// </summary>
internal sealed class DfaBuilder
{
    public const int MaxNfaStates = 400_000;
    public const int MaxDfaStates = 30_000;

    // NFA: per state, epsilon targets and byte-range edges.
    private readonly List<List<int>> _eps = [];
    private readonly List<List<(byte Lo, byte Hi, int To)>> _edges = [];

    public static ByteDfa Build(RxNode node) => Build(node, removeEmpty: true);

    /// <summary>The automaton of <paramref name="node"/>; with <paramref name="removeEmpty"/> false the start state
    /// keeps its finality (used inside products, where the empty string matters).</summary>
    private static ByteDfa Build(RxNode node, bool removeEmpty)
    {
        var b = new DfaBuilder();
        int start = b.NewState(), end = b.NewState();
        b.Emit(node, start, end);
        return b.Determinize(start, end, node.ToString(), removeEmpty);
    }

    /// <summary>Emits the product automaton of both children (strings both match) between from and to.</summary>
    private void EmitAnd(RxNode a, RxNode b, int from, int to)
    {
        var da = Build(a, removeEmpty: false);
        var db = Build(b, removeEmpty: false);
        var index = new Dictionary<(int, int), int>();
        var queue = new Queue<(int, int)>();
        int State((int, int) pair)
        {
            if (index.TryGetValue(pair, out int s)) return s;
            if (index.Count >= MaxDfaStates)
                throw new GrammarException($"expression too large to compile (over {MaxDfaStates} automaton states in an intersection)");
            s = NewState();
            index[pair] = s;
            queue.Enqueue(pair);
            return s;
        }
        _eps[from].Add(State((0, 0)));
        while (queue.Count > 0)
        {
            var (qa, qb) = queue.Dequeue();
            int me = index[(qa, qb)];
            if (da.IsFinal(qa) && db.IsFinal(qb)) _eps[me].Add(to);
            int runStart = -1, runTarget = -1;
            for (int x = 0; x <= 256; x++)
            {
                int target = -1;
                if (x < 256)
                {
                    int na = da.Step(qa, (byte)x), nb = na < 0 ? -1 : db.Step(qb, (byte)x);
                    target = nb < 0 ? -1 : State((na, nb));
                }
                if (target == runTarget) continue;
                if (runTarget >= 0) _edges[me].Add(((byte)runStart, (byte)(x - 1), runTarget));
                runStart = x;
                runTarget = target;
            }
        }
    }

    private int NewState()
    {
        if (_eps.Count >= MaxNfaStates)
            throw new GrammarException($"expression too large to compile (over {MaxNfaStates} automaton states; a repetition count or length bound is too big)");
        _eps.Add([]);
        _edges.Add([]);
        return _eps.Count - 1;
    }

    private void Emit(RxNode node, int from, int to)
    {
        switch (node.Kind)
        {
            case RxKind.Empty:
                _eps[from].Add(to);
                break;
            case RxKind.Nothing:
                break;
            case RxKind.Bytes:
                foreach (var (lo, hi) in node.Ranges) _edges[from].Add(((byte)lo, (byte)hi, to));
                break;
            case RxKind.Chars:
                var seqs = new List<(byte Lo, byte Hi)[]>();
                foreach (var (lo, hi) in node.Ranges) Utf8Ranges.Split(lo, hi, seqs);
                foreach (var seq in seqs)
                {
                    int cur = from;
                    for (int i = 0; i < seq.Length; i++)
                    {
                        int nxt = i == seq.Length - 1 ? to : NewState();
                        _edges[cur].Add((seq[i].Lo, seq[i].Hi, nxt));
                        cur = nxt;
                    }
                }
                break;
            case RxKind.Seq:
                int at = from;
                for (int i = 0; i < node.Children.Length; i++)
                {
                    int nxt = i == node.Children.Length - 1 ? to : NewState();
                    Emit(node.Children[i], at, nxt);
                    at = nxt;
                }
                break;
            case RxKind.Alt:
                foreach (var child in node.Children) Emit(child, from, to);
                break;
            case RxKind.Repeat:
                EmitRepeat(node.Children[0], node.Min, node.Max, from, to);
                break;
            case RxKind.And:
                EmitAnd(node.Children[0], node.Children[1], from, to);
                break;
            default:
                throw new InvalidOperationException("rule references are lowered before automata are built");
        }
    }

    private void EmitRepeat(RxNode child, int min, int max, int from, int to)
    {
        int at = from;
        for (int i = 0; i < min; i++)
        {
            int nxt = NewState();
            Emit(child, at, nxt);
            at = nxt;
        }
        if (max < 0)
        {
            // Kleene star on a fresh loop state, so the loop cannot leak into what precedes it.
            int loop = NewState();
            _eps[at].Add(loop);
            int back = NewState();
            Emit(child, loop, back);
            _eps[back].Add(loop);
            _eps[loop].Add(to);
            return;
        }
        for (int i = min; i < max; i++)
        {
            _eps[at].Add(to);
            int nxt = i == max - 1 ? to : NewState();
            Emit(child, at, nxt);
            at = nxt;
        }
        if (max == min) _eps[at].Add(to);
    }

    private ByteDfa Determinize(int start, int end, string key, bool removeEmpty)
    {
        // Byte classes: bytes that no edge range boundary separates behave alike.
        var cuts = new bool[257];
        cuts[0] = true;
        foreach (var list in _edges)
            foreach (var (lo, hi, _) in list) { cuts[lo] = true; cuts[hi + 1] = true; }
        var classOf = new byte[256];
        int classes = -1;
        for (int b = 0; b < 256; b++)
        {
            if (cuts[b]) classes++;
            classOf[b] = (byte)classes;
        }
        int classCount = classes + 1;

        var sets = new List<int[]>();
        var index = new Dictionary<SetKey, int>();
        var next = new List<int>();
        var stackBuf = new Stack<int>();
        var mark = new int[_eps.Count];
        int stamp = 0;

        int[] Closure(IEnumerable<int> seeds)
        {
            stamp++;
            var result = new List<int>();
            foreach (int s in seeds) if (mark[s] != stamp) { mark[s] = stamp; stackBuf.Push(s); }
            while (stackBuf.Count > 0)
            {
                int s = stackBuf.Pop();
                result.Add(s);
                foreach (int t in _eps[s]) if (mark[t] != stamp) { mark[t] = stamp; stackBuf.Push(t); }
            }
            result.Sort();
            return [.. result];
        }

        int Intern(int[] set)
        {
            var k = new SetKey(set);
            if (index.TryGetValue(k, out int id)) return id;
            if (sets.Count >= MaxDfaStates)
                throw new GrammarException($"expression too large to compile (over {MaxDfaStates} automaton states; a repetition count or length bound is too big)");
            id = sets.Count;
            sets.Add(set);
            index[k] = id;
            for (int c = 0; c < classCount; c++) next.Add(-1);
            return id;
        }

        Intern(Closure([start]));
        // Targets bucketed by byte class in one pass over each state's edges.
        var perClass = new List<int>[classCount];
        for (int c = 0; c < classCount; c++) perClass[c] = [];
        for (int d = 0; d < sets.Count; d++)
        {
            foreach (int s in sets[d])
                foreach (var (lo, hi, to) in _edges[s])
                    for (int c = classOf[lo]; c <= classOf[hi]; c++) perClass[c].Add(to);
            for (int c = 0; c < classCount; c++)
            {
                if (perClass[c].Count == 0) continue;
                int id = Intern(Closure(perClass[c]));
                perClass[c].Clear();
                next[d * classCount + c] = id;
            }
        }
        var final = sets.Select(s => Array.BinarySearch(s, end) >= 0).ToArray();
        return Trim(key, classOf, classCount, [.. next], final, removeEmpty);
    }

    /// <summary>Drops states that cannot reach a final state and makes the start state non-final (L minus ε).</summary>
    private static ByteDfa Trim(string key, byte[] classOf, int classCount, int[] next, bool[] final, bool removeEmpty)
    {
        int n = final.Length;
        // Live = reaches a final state: a search backwards from the final states over reversed edges (predecessor
        // lists in one array, counted first), linear in the transitions. A fixpoint over forward edges took a pass
        // per level of a counted string (255 passes over 7,399 states for maxLength 255).
        var live = (bool[])final.Clone();
        var predStart = new int[n + 1];
        foreach (int t in next) if (t >= 0) predStart[t + 1]++;
        for (int s = 0; s < n; s++) predStart[s + 1] += predStart[s];
        var preds = new int[predStart[n]];
        var fill = (int[])predStart.Clone();
        for (int s = 0; s < n; s++)
            for (int c = 0; c < classCount; c++)
            {
                int t = next[s * classCount + c];
                if (t >= 0) preds[fill[t]++] = s;
            }
        var work = new Stack<int>();
        for (int s = 0; s < n; s++) if (live[s]) work.Push(s);
        while (work.Count > 0)
        {
            int t = work.Pop();
            for (int i = predStart[t]; i < predStart[t + 1]; i++)
                if (!live[preds[i]]) { live[preds[i]] = true; work.Push(preds[i]); }
        }
        // New numbering: 0 = a non-final copy of the old start; then every live old state.
        var map = new int[n];
        int count = 1;
        for (int s = 0; s < n; s++) map[s] = live[s] ? count++ : -1;
        var newNext = new int[count * classCount];
        var newFinal = new bool[count];
        for (int s = 0; s < n; s++)
        {
            if (!live[s]) continue;
            newFinal[map[s]] = final[s];
            for (int c = 0; c < classCount; c++)
            {
                int t = next[s * classCount + c];
                newNext[map[s] * classCount + c] = t >= 0 ? map[t] : -1;
            }
        }
        for (int c = 0; c < classCount; c++)
        {
            int t = live[0] ? next[c] : -1;
            newNext[c] = t >= 0 ? map[t] : -1;
        }
        newFinal[0] = !removeEmpty && final[0];
        return new ByteDfa(key, classOf, classCount, newNext, newFinal);
    }

    private readonly struct SetKey(int[] set) : IEquatable<SetKey>
    {
        private readonly int[] _set = set;
        private readonly int _hash = Hash(set);

        private static int Hash(int[] s)
        {
            var h = new HashCode();
            foreach (int x in s) h.Add(x);
            return h.ToHashCode();
        }

        public bool Equals(SetKey other) => _set.AsSpan().SequenceEqual(other._set);
        public override bool Equals(object? obj) => obj is SetKey k && Equals(k);
        public override int GetHashCode() => _hash;
    }
}
