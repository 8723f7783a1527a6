namespace Folio.Structured;

/// <summary>
/// What a vocabulary's tokens do to one terminal automaton in one state, computed once by walking the token trie
/// with the automaton alone: <see cref="Inside"/> = tokens the terminal consumes whole and stays alive (allowed
/// whatever surrounds the terminal, because a trimmed automaton can always finish); <see cref="Suffixes"/> = a trie
/// of what follows each point where the terminal may end inside a token, with the tokens ending at each node.
/// A mask is then Inside plus a walk of the (small) suffix trie with the full parser.
/// </summary>
internal sealed class TerminalTokens
{
    // Inside as a bitset when large, as sorted ids when small (most literal terminals allow few tokens).
    private readonly ulong[]? _insideBits;
    private readonly int[] _insideIds;

    private TerminalTokens(ulong[]? bits, int[] ids, SuffixTrie suffixes)
    {
        _insideBits = bits; _insideIds = ids; Suffixes = suffixes;
    }

    public SuffixTrie Suffixes { get; }

    /// <summary>Approximate bytes held, for the shared cache's budget.</summary>
    public long Bytes => (_insideBits?.Length ?? 0) * 8L + _insideIds.Length * 4L + Suffixes.Bytes;

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
        var inside = new List<int>();
        var suffixes = new SuffixTrie.Builder(trie);
        var stack = new Stack<(int Node, int State)>();
        stack.Push((0, state));
        while (stack.Count > 0)
        {
            var (node, s) = stack.Pop();
            int first = trie.FirstChild[node], end = first + trie.ChildCount[node];
            for (int c = first; c < end; c++)
            {
                int s2 = dfa.Step(s, trie.EdgeByte[c]);
                if (s2 < 0) continue;
                for (int t = 0; t < trie.TokenCount[c]; t++) inside.Add(trie.Tokens[trie.TokenStart[c] + t]);
                if (trie.ChildCount[c] == 0) continue;
                if (dfa.IsFinal(s2)) suffixes.MergeChildrenOf(c);
                stack.Push((c, s2));
            }
        }
        ulong[]? bits = null;
        int[] ids;
        if (inside.Count > trie.VocabSize / 64)
        {
            bits = new ulong[(trie.VocabSize + 63) / 64];
            foreach (int id in inside) bits[id >> 6] |= 1UL << (id & 63);
            ids = [];
        }
        else
        {
            inside.Sort();
            ids = [.. inside];
        }
        return new TerminalTokens(bits, ids, suffixes.Build());
    }
}
