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

    public static TerminalTokens Build(ByteDfa dfa, int state, TokenTrie trie)
    {
        var b = new Builder(dfa, trie);
        b.Visit(0, state);
        int count = BitMask.Count(b.Inside);
        ulong[]? bits = null;
        int[] ids = [];
        if (count > trie.VocabSize / 64) bits = b.Inside;
        else
        {
            ids = new int[count];
            int k = 0;
            for (int w = 0; w < b.Inside.Length; w++)
                for (ulong x = b.Inside[w]; x != 0; x &= x - 1)
                    ids[k++] = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(x);
        }
        return new TerminalTokens(bits, ids, b.Suffixes.Build(), [.. b.Exits]);
    }

    private sealed class Builder(ByteDfa dfa, TokenTrie trie)
    {
        public readonly ulong[] Inside = new ulong[(trie.VocabSize + 63) / 64];
        public readonly SuffixTrie.Builder Suffixes = new(trie);
        public readonly List<int> Exits = [];
        private readonly byte[] _edge = trie.EdgeByte;
        private readonly int[] _first = trie.FirstChild, _count = trie.ChildCount, _tokStart = trie.TokenStart, _tokCount = trie.TokenCount, _tokens = trie.Tokens;

        public void Visit(int node, int s)
        {
            int first = _first[node], end = first + _count[node];
            for (int c = first; c < end; c++)
            {
                int s2 = dfa.Step(s, _edge[c]);
                if (s2 < 0) continue;
                for (int t = _tokStart[c], te = t + _tokCount[c]; t < te; t++)
                {
                    int id = _tokens[t];
                    Inside[id >> 6] |= 1UL << (id & 63);
                }
                if (_count[c] == 0) continue;
                if (dfa.IsFinal(s2))
                {
                    if (trie.SubtreeNodes[c] > MergeLimitNodes) Exits.Add(c);
                    else Suffixes.MergeChildrenOf(c);
                }
                Visit(c, s2);
            }
        }
    }
}
