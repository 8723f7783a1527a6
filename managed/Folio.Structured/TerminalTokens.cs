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

    // Inside as a bitset when large, as sorted ids when small (most literal terminals allow few tokens).
    private readonly ulong[]? _insideBits;
    private readonly int[] _insideIds;

    private TerminalTokens(ulong[]? bits, int[] ids, SuffixTrie suffixes, int[] exitNodes)
    {
        _insideBits = bits; _insideIds = ids; Suffixes = suffixes; ExitNodes = exitNodes;
    }

    public SuffixTrie Suffixes { get; }

    /// <summary>Vocabulary trie nodes after which the terminal may end and whose children are walked in place.</summary>
    public int[] ExitNodes { get; }

    public bool HasExits => !Suffixes.IsEmpty || ExitNodes.Length > 0;

    /// <summary>Approximate bytes held, for the shared cache's budget.</summary>
    public long Bytes => (_insideBits?.Length ?? 0) * 8L + _insideIds.Length * 4L + Suffixes.Bytes + ExitNodes.Length * 4L;

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
        var trie = cache.Trie;
        var b = new Builder(dfa, cache);
        var top = b.Walk(0, state);
        var inside = new ulong[(trie.VocabSize + 63) / 64];
        var exits = new List<int>();
        var suffixes = new SuffixTrie.Builder(trie);
        Collect(top, inside, exits, suffixes);
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

    private static void Collect(TrieFragment f, ulong[] inside, List<int> exits, SuffixTrie.Builder suffixes)
    {
        foreach (int id in f.Tokens) inside[id >> 6] |= 1UL << (id & 63);
        exits.AddRange(f.Exits);
        foreach (int node in f.Merges) suffixes.MergeChildrenOf(node);
        foreach (var child in f.Children) Collect(child, inside, exits, suffixes);
    }

    /// <summary>
    /// The walk: children with subtrees of at least <see cref="FragmentMinNodes"/> nodes become cached fragments
    /// keyed by the automaton's residual state there; smaller ones are walked inline into the current fragment.
    /// </summary>
    private sealed class Builder(ByteDfa dfa, TerminalTokenCache cache)
    {
        private readonly TokenTrie _trie = cache.Trie;
        private readonly byte[] _edge = cache.Trie.EdgeByte;
        private readonly int[] _first = cache.Trie.FirstChild, _count = cache.Trie.ChildCount, _tokStart = cache.Trie.TokenStart,
            _tokCount = cache.Trie.TokenCount, _tokens = cache.Trie.Tokens, _subtree = cache.Trie.SubtreeNodes;

        private sealed class Sink
        {
            public readonly List<int> Tokens = [], Exits = [], Merges = [];
            public readonly List<TrieFragment> Children = [];
            public TrieFragment ToFragment() => new([.. Tokens], [.. Exits], [.. Merges], [.. Children]);
        }

        /// <summary>The fragment of <paramref name="node"/>'s children entered from state <paramref name="s"/>.</summary>
        public TrieFragment Walk(int node, int s)
        {
            var sink = new Sink();
            Visit(node, s, sink);
            return sink.ToFragment();
        }

        private void Visit(int node, int s, Sink sink)
        {
            int first = _first[node], end = first + _count[node];
            for (int c = first; c < end; c++)
            {
                int s2 = dfa.Step(s, _edge[c]);
                if (s2 < 0) continue;
                if (_subtree[c] >= FragmentMinNodes) sink.Children.Add(FragmentOf(c, s2));
                else Enter(c, s2, sink);
            }
        }

        /// <summary>Child <paramref name="c"/> entered in state <paramref name="s2"/> (alive): its tokens, where the terminal may end, and below.</summary>
        private void Enter(int c, int s2, Sink sink)
        {
            for (int t = _tokStart[c], te = t + _tokCount[c]; t < te; t++) sink.Tokens.Add(_tokens[t]);
            if (_count[c] == 0) return;
            if (dfa.IsFinal(s2))
            {
                if (_subtree[c] > MergeLimitNodes) sink.Exits.Add(c);
                else sink.Merges.Add(c);
            }
            Visit(c, s2, sink);
        }

        private TrieFragment FragmentOf(int c, int s2)
        {
            int residual = cache.ResidualId(dfa, s2);
            if (cache.TryGetFragment(residual, c) is { } cached) return cached;
            var sink = new Sink();
            Enter(c, s2, sink);
            var f = sink.ToFragment();
            cache.TryAddFragment(residual, c, f);
            return f;
        }
    }
}
