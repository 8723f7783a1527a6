namespace Folio.Structured;

/// <summary>
/// Expression (no rule references) → byte NFA (Thompson) → DFA (subset construction over byte classes) → trimmed,
/// with the empty string removed from the language. Refuses automata past a size cap instead of running away.
/// </summary>
internal sealed class DfaBuilder
{
    public const int MaxNfaStates = 400_000;
    public const int MaxDfaStates = 30_000;

    // NFA: epsilon moves and byte-range edges in emission order, grouped by source state (CSR) when determinized.
    // Flat lists, not a list per state: a counted string or a failing expression emits up to 400,000 states, and
    // two lists per state made automaton construction MaskBench's largest allocator (~3 GB on a 798-case subset).
    private int _states;
    private readonly List<int> _epsFrom = [], _epsTo = [];
    private readonly List<int> _edgeFrom = [], _edgeTo = [];
    private readonly List<byte> _edgeLo = [], _edgeHi = [];

    private void AddEps(int from, int to)
    {
        _epsFrom.Add(from);
        _epsTo.Add(to);
    }

    private void AddEdge(int from, byte lo, byte hi, int to)
    {
        _edgeFrom.Add(from);
        _edgeLo.Add(lo);
        _edgeHi.Add(hi);
        _edgeTo.Add(to);
    }

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
        AddEps(from, State((0, 0)));
        while (queue.Count > 0)
        {
            var (qa, qb) = queue.Dequeue();
            int me = index[(qa, qb)];
            if (da.IsFinal(qa) && db.IsFinal(qb)) AddEps(me, to);
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
                if (runTarget >= 0) AddEdge(me, (byte)runStart, (byte)(x - 1), runTarget);
                runStart = x;
                runTarget = target;
            }
        }
    }

    private int NewState()
    {
        if (_states >= MaxNfaStates)
            throw new GrammarException($"expression too large to compile (over {MaxNfaStates} automaton states; a repetition count or length bound is too big)");
        return _states++;
    }

    private void Emit(RxNode node, int from, int to)
    {
        switch (node.Kind)
        {
            case RxKind.Empty:
                AddEps(from, to);
                break;
            case RxKind.Nothing:
                break;
            case RxKind.Bytes:
                foreach (var (lo, hi) in node.Ranges) AddEdge(from, (byte)lo, (byte)hi, to);
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
                        AddEdge(cur, seq[i].Lo, seq[i].Hi, nxt);
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
            AddEps(at, loop);
            int back = NewState();
            Emit(child, loop, back);
            AddEps(back, loop);
            AddEps(loop, to);
            return;
        }
        for (int i = min; i < max; i++)
        {
            AddEps(at, to);
            int nxt = i == max - 1 ? to : NewState();
            Emit(child, at, nxt);
            at = nxt;
        }
        if (max == min) AddEps(at, to);
    }

    /// <summary>Groups (from, to) pairs by source: targets of state s are to[start[s] .. start[s + 1]) (CSR).</summary>
    private int[] GroupBySource(List<int> from, out int[] order)
    {
        var start = new int[_states + 1];
        foreach (int f in from) start[f + 1]++;
        for (int s = 0; s < _states; s++) start[s + 1] += start[s];
        var fill = (int[])start.Clone();
        order = new int[from.Count];
        for (int i = 0; i < from.Count; i++) order[fill[from[i]]++] = i;
        return start;
    }

    private ByteDfa Determinize(int start, int end, string key, bool removeEmpty)
    {
        // Byte classes: bytes that no edge range boundary separates behave alike.
        var cuts = new bool[257];
        cuts[0] = true;
        for (int e = 0; e < _edgeLo.Count; e++) { cuts[_edgeLo[e]] = true; cuts[_edgeHi[e] + 1] = true; }
        var classOf = new byte[256];
        int classes = -1;
        for (int b = 0; b < 256; b++)
        {
            if (cuts[b]) classes++;
            classOf[b] = (byte)classes;
        }
        int classCount = classes + 1;

        var epsStart = GroupBySource(_epsFrom, out var epsOrder);
        var epsTo = new int[epsOrder.Length];
        for (int i = 0; i < epsOrder.Length; i++) epsTo[i] = _epsTo[epsOrder[i]];
        var edgeStart = GroupBySource(_edgeFrom, out var edgeOrder);
        var edgeTo = new int[edgeOrder.Length];
        var edgeLoClass = new byte[edgeOrder.Length];
        var edgeHiClass = new byte[edgeOrder.Length];
        for (int i = 0; i < edgeOrder.Length; i++)
        {
            int e = edgeOrder[i];
            edgeTo[i] = _edgeTo[e];
            edgeLoClass[i] = classOf[_edgeLo[e]];
            edgeHiClass[i] = classOf[_edgeHi[e]];
        }

        // DFA states are sorted NFA-state sets, stored end to end in setData (set d = [setStart[d], setStart[d + 1])),
        // found through an open-addressing table of set ids by hash: a closure that is already a state allocates nothing.
        var setData = new List<int>();
        var setStart = new List<int> { 0 };
        var hashes = new List<int>();
        var table = new int[1024];
        Array.Fill(table, -1);
        var next = new List<int>();
        var stackBuf = new Stack<int>();
        var closure = new List<int>();
        var mark = new int[_states];
        int stamp = 0;

        void Closure(ReadOnlySpan<int> seeds)
        {
            stamp++;
            closure.Clear();
            foreach (int s in seeds) if (mark[s] != stamp) { mark[s] = stamp; stackBuf.Push(s); }
            while (stackBuf.Count > 0)
            {
                int s = stackBuf.Pop();
                closure.Add(s);
                for (int i = epsStart[s]; i < epsStart[s + 1]; i++)
                {
                    int t = epsTo[i];
                    if (mark[t] != stamp) { mark[t] = stamp; stackBuf.Push(t); }
                }
            }
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(closure).Sort();
        }

        ReadOnlySpan<int> Set(int id) =>
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(setData)[setStart[id]..setStart[id + 1]];

        int Intern()
        {
            var set = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(closure);
            int hash = 17;
            foreach (int x in set) hash = hash * 31 + x;
            int slot = hash & (table.Length - 1);
            for (; table[slot] >= 0; slot = (slot + 1) & (table.Length - 1))
            {
                int id = table[slot];
                if (hashes[id] == hash && Set(id).SequenceEqual(set)) return id;
            }
            if (hashes.Count >= MaxDfaStates)
                throw new GrammarException($"expression too large to compile (over {MaxDfaStates} automaton states; a repetition count or length bound is too big)");
            int newId = hashes.Count;
            setData.AddRange(set);
            setStart.Add(setData.Count);
            hashes.Add(hash);
            table[slot] = newId;
            for (int c = 0; c < classCount; c++) next.Add(-1);
            if (hashes.Count * 2 > table.Length)
            {
                table = new int[table.Length * 2];
                Array.Fill(table, -1);
                for (int id = 0; id < hashes.Count; id++)
                {
                    int t = hashes[id] & (table.Length - 1);
                    while (table[t] >= 0) t = (t + 1) & (table.Length - 1);
                    table[t] = id;
                }
            }
            return newId;
        }

        Closure([start]);
        Intern();
        // Targets bucketed by byte class in one pass over each state's edges.
        var perClass = new List<int>[classCount];
        for (int c = 0; c < classCount; c++) perClass[c] = [];
        for (int d = 0; d < hashes.Count; d++)
        {
            for (int k = setStart[d]; k < setStart[d + 1]; k++)
            {
                int s = setData[k];
                for (int e = edgeStart[s]; e < edgeStart[s + 1]; e++)
                    for (int c = edgeLoClass[e]; c <= edgeHiClass[e]; c++) perClass[c].Add(edgeTo[e]);
            }
            for (int c = 0; c < classCount; c++)
            {
                if (perClass[c].Count == 0) continue;
                Closure(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(perClass[c]));
                perClass[c].Clear();
                next[d * classCount + c] = Intern();
            }
        }
        var final = new bool[hashes.Count];
        for (int d = 0; d < final.Length; d++) final[d] = Set(d).BinarySearch(end) >= 0;
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
}
