namespace Folio.Structured;

/// <summary>
/// What a vocabulary's tokens do to one terminal automaton in one state, computed once by walking the token trie
/// with the automaton alone: <see cref="OrInto"/> adds the tokens the terminal consumes whole and stays alive
/// (allowed whatever surrounds the terminal, because a trimmed automaton can always finish). Where the terminal
/// may end inside a token, what follows must be checked by the full parser: small remainders are merged into
/// <see cref="Suffixes"/> (a trie of remainders, deduplicated), and nodes with large subtrees (a terminal ending
/// in an optional space, before every token that starts with one) are listed in <see cref="ExitNodes"/> to be
/// walked in the vocabulary trie itself, where the parser prunes them at the first byte.
/// </summary>
internal sealed class TerminalTokens
{
    /// <summary>Subtrees larger than this are walked in place instead of merged.</summary>
    private const int MergeLimitNodes = 64;

    /// <summary>Children with subtrees at least this large are walked as shared fragments (<see cref="TrieFragment"/>).</summary>
    private const int FragmentMinNodes = 512;

    /// <summary>
    /// Smaller children, down to this size, are fragments too where the automaton's state there has a residual
    /// signature (shared by every automaton: the "any string" state every extra-key automaton falls into once a key
    /// leaves its names). The walk of an extra-key automaton's first state otherwise went inline through every
    /// subtree under a name's first characters (0.5–1 ms per schema); unsigned residuals (one automaton's own)
    /// seldom recur, so they keep the larger threshold and add no small fragments to the cache.
    /// </summary>
    private const int SignedFragmentMinNodes = 64;

    // Inside as a bitset when large, as sorted ids when small (most literal terminals allow few tokens).
    private readonly ulong[]? _insideBits;
    private readonly int[] _insideIds;

    private TerminalTokens(ulong[]? bits, int[] ids, SuffixTrie suffixes, int[] exitNodes)
    {
        _insideBits = bits; _insideIds = ids; Suffixes = suffixes; ExitNodes = exitNodes;
    }

    public SuffixTrie Suffixes { get; }

    /// <summary>A further part of the same state's tokens (a bounded walk's own continuation below the shared part), or null.</summary>
    public TerminalTokens? Extra { get; private init; }

    /// <summary>Vocabulary trie nodes after which the terminal may end and whose children are walked in place.</summary>
    public int[] ExitNodes { get; }

    public bool HasExits => !Suffixes.IsEmpty || ExitNodes.Length > 0;

    /// <summary>Approximate bytes held, for the shared cache's budget.</summary>
    public long Bytes => (_insideBits?.Length ?? 0) * 8L + _insideIds.Length * 4L + Suffixes.Bytes + ExitNodes.Length * 4L + (Extra?.Bytes ?? 0);

    public void OrInto(Span<ulong> mask)
    {
        if (_insideBits is not null)
        {
            BitMask.Or(mask, _insideBits);
            return;
        }
        foreach (int id in _insideIds) mask[id >> 6] |= 1UL << (id & 63);
    }

    /// <summary>Walks the trie from <paramref name="state"/>, reusing the cache's fragments under large nodes.</summary>
    public static TerminalTokens Build(ByteDfa dfa, int state, TerminalTokenCache cache)
    {
        var top = new Builder(dfa, cache).Walk(0, state);
        return FromFragment(top, cache);
    }

    /// <summary>
    /// <paramref name="state"/>'s tokens from the walk shared by every state with its <see cref="BoundedSignature"/>
    /// (tokens up to that many bytes) and its own walk of the longer ones below the shared walk's frontier; null when
    /// the state has no bounded signature, or its signature is new (the caller walks the usual way: a bounded walk,
    /// which cannot reuse fragments, is built only for a signature that recurs).
    /// </summary>
    public static TerminalTokens? BuildBounded(ByteDfa dfa, int state, TerminalTokenCache cache)
    {
        var order = new List<int>();
        if (BoundedSignature.Of(dfa, state, order) is not { } signature) return null;
        var entry = cache.BoundedEntry(signature, out bool recurring);
        cache.CountBounded(entry is not null, recurring);
        if (entry is null)
        {
            if (!recurring) return null;
            entry = new Builder(dfa, cache).WalkBounded(state, order);
            cache.TryAddBounded(signature, entry);
        }
        var frontier = new (int Node, int State)[entry.FrontierNodes.Length];
        for (int i = 0; i < frontier.Length; i++) frontier[i] = (entry.FrontierNodes[i], order[entry.FrontierIndex[i]]);
        var below = new Builder(dfa, cache).Continue(frontier);
        if (below.Tokens.Length == 0 && below.Exits.Length == 0 && below.Merges.Length == 0 && below.Children.Length == 0)
            return entry.Shared;
        return entry.Shared.WithExtra(FromFragment(below, cache));
    }

    private TerminalTokens WithExtra(TerminalTokens extra) => new(_insideBits, _insideIds, Suffixes, ExitNodes) { Extra = extra };

    /// <summary>A shared bounded walk: its tokens, and the frontier (trie nodes at the bound's depth where the automaton
    /// is alive, with the breadth-first number of its state there) where each state continues on its own.</summary>
    internal sealed record BoundedWalk(TerminalTokens Shared, int[] FrontierNodes, int[] FrontierIndex)
    {
        public long Bytes => Shared.Bytes + FrontierNodes.Length * 8L;
    }

    private static TerminalTokens FromFragment(TrieFragment top, TerminalTokenCache cache)
    {
        var trie = cache.Trie;
        var inside = new ulong[(trie.VocabSize + 63) / 64];
        var exits = new List<int>();
        var suffixes = new SuffixTrie.Builder(trie);
        Collect(top, inside, exits, suffixes, cache);
        int count = BitMask.Count(inside);
        ulong[]? bits = null;
        int[] ids = [];
        if (count > trie.VocabSize / 64) bits = inside;
        else
        {
            ids = new int[count];
            int k = 0;
            for (int w = 0; w < inside.Length; w++)
                for (ulong x = inside[w]; x != 0; x &= x - 1)
                    ids[k++] = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(x);
        }
        return new TerminalTokens(bits, ids, suffixes.Build(), [.. exits]);
    }

    private static void Collect(TrieFragment f, ulong[] inside, List<int> exits, SuffixTrie.Builder suffixes, TerminalTokenCache cache)
    {
        var merges = new List<int>();
        Collect(f, inside, exits, merges, cache);
        foreach (int node in merges) suffixes.MergeChildrenOf(node);
    }

    /// <summary>Adds what <paramref name="f"/> and its descendants hold; a large fragment collected before is flattened
    /// once into its <see cref="TrieFragment.Closure"/> and ORed from then on.</summary>
    private static void Collect(TrieFragment f, ulong[] inside, List<int> exits, List<int> merges, TerminalTokenCache cache)
    {
        var closure = f.Closure;
        if (closure is null && f.ShouldBuildClosure())
        {
            var bits = new ulong[inside.Length];
            List<int> e = [], m = [];
            CollectTree(f, bits, e, m, cache);
            closure = new FragmentClosure(bits, [.. e], [.. m]);
            // Counted in the shared budget like the fragments (a vocabulary bitset each: 16 KB for Llama 3).
            if (cache.TryCharge(closure.Bytes)) f.SetClosure(closure);
        }
        if (closure is null)
        {
            CollectTree(f, inside, exits, merges, cache);
            return;
        }
        BitMask.Or(inside, closure.Tokens);
        exits.AddRange(closure.Exits);
        merges.AddRange(closure.Merges);
    }

    private static void CollectTree(TrieFragment f, ulong[] inside, List<int> exits, List<int> merges, TerminalTokenCache cache)
    {
        foreach (int id in f.Tokens) inside[id >> 6] |= 1UL << (id & 63);
        exits.AddRange(f.Exits);
        merges.AddRange(f.Merges);
        foreach (var child in f.Children) Collect(child, inside, exits, merges, cache);
    }

    /// <summary>
    /// The walk: children with subtrees of at least <see cref="FragmentMinNodes"/> nodes become cached fragments
    /// keyed by the automaton's residual state there; smaller ones are walked inline into the current fragment.
    /// </summary>
    private sealed class Builder(ByteDfa dfa, TerminalTokenCache cache)
    {
        private readonly byte[] _edge = cache.Trie.EdgeByte;
        private readonly int[] _first = cache.Trie.FirstChild, _count = cache.Trie.ChildCount, _tokStart = cache.Trie.TokenStart,
            _tokCount = cache.Trie.TokenCount, _tokens = cache.Trie.Tokens, _subtree = cache.Trie.SubtreeNodes,
            _dfsTokens = cache.Trie.SubtreeTokens, _dfsStart = cache.Trie.SubtreeTokenStart, _dfsEnd = cache.Trie.SubtreeTokenEnd;
        private readonly ulong[] _belowLo = cache.Trie.BelowAsciiLo, _belowHi = cache.Trie.BelowAsciiHi;
        private readonly bool[] _belowHigh = cache.Trie.BelowHighByte;
        private readonly int[] _height = cache.Trie.HeightBelow;
        private readonly byte[] _utf8 = cache.Trie.Utf8Below;

        /// <summary>Every token below child <paramref name="c"/> (its own included): one depth-first range.</summary>
        private void AddSubtree(int c, Sink sink) => sink.Tokens.AddRange(_dfsTokens.AsSpan(_dfsStart[c], _dfsEnd[c] - _dfsStart[c]));

        /// <summary>
        /// Whether every token below child <paramref name="c"/> (its own included) is consumed whole and alive from
        /// <paramref name="s2"/> with no exit on the way: along the chain of main steps from <paramref name="s2"/>
        /// (<see cref="ByteDfa.MainAsciiStep"/>), as many as the subtree is deep, every state steps each ASCII byte
        /// below to the next (and, where bytes ≥ 128 are below, every character, the paths below being well-formed
        /// UTF-8), and the states at inner nodes are not final. A string body loops on its characters (the chain stops
        /// at the loop), a counted one counts them; the walk then takes the subtree's tokens as one depth-first range
        /// instead of visiting its nodes (most of a string body's walk).
        /// </summary>
        private bool AllowsWhole(int c, int s2)
        {
            if (dfa.IsFinal(s2)) return false;
            bool high = _belowHigh[c];
            if (high && (_utf8[c] & (1 << Utf8Prefix.Boundary)) == 0) return false;
            ulong below0 = _belowLo[c], below1 = _belowHi[c];
            int s = s2;
            // A character is at least one byte: a subtree h bytes deep holds at most h characters.
            for (int depth = 1, h = _height[c]; depth <= h; depth++)
            {
                var (lo, hi, next) = dfa.MainAsciiStep(s);
                if ((below0 & ~lo) != 0 || (below1 & ~hi) != 0 || (high && !dfa.EveryCharLikeAscii(s))) return false;
                if (next == s) return true;
                if (depth < h && dfa.IsFinal(next)) return false;
                s = next;
            }
            return true;
        }

        private sealed class Sink
        {
            public readonly List<int> Tokens = [], Exits = [], Merges = [];
            public readonly List<TrieFragment> Children = [];
            public TrieFragment ToFragment() => new([.. Tokens], [.. Exits], [.. Merges], [.. Children]);

            public void Clear()
            {
                Tokens.Clear(); Exits.Clear(); Merges.Clear(); Children.Clear();
            }
        }

        // Sinks reused across the fragments of a walk (one per nesting level in use): a whole walk makes thousands of
        // fragments, and four fresh lists each, grown and then copied, were a third of a walk's allocation.
        private readonly Stack<Sink> _spare = new();

        private Sink Rent()
        {
            if (!_spare.TryPop(out var sink)) return new Sink();
            sink.Clear();
            return sink;
        }

        /// <summary>The fragment of <paramref name="node"/>'s children entered from state <paramref name="s"/>.</summary>
        public TrieFragment Walk(int node, int s)
        {
            var sink = Rent();
            Visit(node, s, sink);
            var f = sink.ToFragment();
            _spare.Push(sink);
            return f;
        }

        private void Visit(int node, int s, Sink sink)
        {
            int first = _first[node], end = first + _count[node];
            for (int c = first; c < end; c++)
            {
                int s2 = dfa.Step(s, _edge[c]);
                if (s2 < 0) continue;
                if (_subtree[c] >= FragmentMinNodes) sink.Children.Add(FragmentOf(c, s2, cache.ResidualId(dfa, s2)));
                else if (_subtree[c] >= SignedFragmentMinNodes && cache.ResidualId(dfa, s2) is int r && !TerminalTokenCache.IsUnsigned(r))
                    sink.Children.Add(FragmentOf(c, s2, r));
                else Enter(c, s2, sink);
            }
        }

        /// <summary>Child <paramref name="c"/> entered in state <paramref name="s2"/> (alive): its tokens, where the terminal may end, and below.</summary>
        private void Enter(int c, int s2, Sink sink)
        {
            if (_count[c] > 0 && AllowsWhole(c, s2))
            {
                AddSubtree(c, sink);
                return;
            }
            for (int t = _tokStart[c], te = t + _tokCount[c]; t < te; t++) sink.Tokens.Add(_tokens[t]);
            if (_count[c] == 0) return;
            if (dfa.IsFinal(s2))
            {
                if (_subtree[c] > MergeLimitNodes) sink.Exits.Add(c);
                else sink.Merges.Add(c);
            }
            Visit(c, s2, sink);
        }

        /// <summary>The walks of <paramref name="frontier"/>'s nodes' children, each from its own state, as one fragment.</summary>
        public TrieFragment Continue((int Node, int State)[] frontier)
        {
            var sink = Rent();
            foreach (var (node, s) in frontier) Visit(node, s, sink);
            var f = sink.ToFragment();
            _spare.Push(sink);
            return f;
        }

        /// <summary>
        /// The walk from <paramref name="state"/> to <see cref="BoundedSignature.Depth"/> bytes, inline (a fragment
        /// below would hold deeper tokens, which depend on the state): valid for every state with the same bounded
        /// signature. Nodes at that depth with children where the automaton lives form the frontier, named by the
        /// breadth-first number of the state there (<paramref name="order"/>).
        /// </summary>
        public BoundedWalk WalkBounded(int state, List<int> order)
        {
            var number = new Dictionary<int, int>(order.Count);
            for (int i = 0; i < order.Count; i++) number[order[i]] = i;
            var sink = new Sink();
            var nodes = new List<int>();
            var index = new List<int>();
            VisitBounded(0, state, 0, sink, number, nodes, index);
            return new BoundedWalk(FromFragment(sink.ToFragment(), cache), [.. nodes], [.. index]);
        }

        private void VisitBounded(int node, int s, int depth, Sink sink, Dictionary<int, int> number, List<int> nodes, List<int> index)
        {
            int first = _first[node], end = first + _count[node];
            for (int c = first; c < end; c++)
            {
                int s2 = dfa.Step(s, _edge[c]);
                if (s2 < 0) continue;
                // Whole only when the subtree ends within the depth every state of the signature walks alike.
                if (_count[c] > 0 && depth + 1 + _height[c] <= BoundedSignature.Depth && AllowsWhole(c, s2))
                {
                    AddSubtree(c, sink);
                    continue;
                }
                for (int t = _tokStart[c], te = t + _tokCount[c]; t < te; t++) sink.Tokens.Add(_tokens[t]);
                if (_count[c] == 0) continue;
                if (dfa.IsFinal(s2))
                {
                    if (_subtree[c] > MergeLimitNodes) sink.Exits.Add(c);
                    else sink.Merges.Add(c);
                }
                if (depth + 1 < BoundedSignature.Depth) VisitBounded(c, s2, depth + 1, sink, number, nodes, index);
                else
                {
                    nodes.Add(c);
                    index.Add(number[s2]);
                }
            }
        }

        private TrieFragment FragmentOf(int c, int s2, int residual)
        {
            if (cache.TryGetFragment(residual, c) is { } cached) return cached;
            var sink = Rent();
            Enter(c, s2, sink);
            var f = sink.ToFragment();
            _spare.Push(sink);
            cache.TryAddFragment(residual, c, f);
            return f;
        }
    }
}
