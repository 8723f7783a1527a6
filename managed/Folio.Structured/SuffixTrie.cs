namespace Folio.Structured;

/// <summary>
/// A small trie of token remainders (see <see cref="TerminalTokens"/>), flattened like <see cref="TokenTrie"/>:
/// node 0 is the root; children contiguous and sorted by byte; tokens ending at a node listed in <see cref="Tokens"/>.
/// </summary>
internal sealed class SuffixTrie
{
    private SuffixTrie(byte[] edge, int[] first, int[] count, int[] tokStart, int[] tokCount, int[] tokens)
    {
        EdgeByte = edge; FirstChild = first; ChildCount = count; TokenStart = tokStart; TokenCount = tokCount; Tokens = tokens;
    }

    public byte[] EdgeByte { get; }
    public int[] FirstChild { get; }
    public int[] ChildCount { get; }
    public int[] TokenStart { get; }
    public int[] TokenCount { get; }
    public int[] Tokens { get; }
    public bool IsEmpty => ChildCount[0] == 0;
    public TrieView View => new(EdgeByte, FirstChild, ChildCount, TokenStart, TokenCount, Tokens);
    public long Bytes => EdgeByte.Length * 17L + Tokens.Length * 4L;

    /// <summary>Merges subtrees of the vocabulary trie under one root, then flattens.</summary>
    public sealed class Builder(TokenTrie trie)
    {
        private readonly List<SortedDictionary<byte, int>?> _children = [null];
        private readonly List<List<int>?> _tokens = [null];

        /// <summary>Adds every token below vocabulary node <paramref name="node"/>, keyed by the bytes after it.</summary>
        public void MergeChildrenOf(int node)
        {
            var work = new Stack<(int Vocab, int Suffix)>();
            PushChildren(node, 0, work);
            while (work.Count > 0)
            {
                var (v, s) = work.Pop();
                if (trie.TokenCount[v] > 0)
                {
                    var list = _tokens[s] ??= [];
                    for (int t = 0; t < trie.TokenCount[v]; t++) list.Add(trie.Tokens[trie.TokenStart[v] + t]);
                }
                PushChildren(v, s, work);
            }
        }

        private void PushChildren(int vocabNode, int suffixNode, Stack<(int, int)> work)
        {
            int first = trie.FirstChild[vocabNode], end = first + trie.ChildCount[vocabNode];
            for (int c = first; c < end; c++)
            {
                var map = _children[suffixNode] ??= [];
                byte b = trie.EdgeByte[c];
                if (!map.TryGetValue(b, out int child))
                {
                    child = _children.Count;
                    _children.Add(null);
                    _tokens.Add(null);
                    map[b] = child;
                }
                work.Push((c, child));
            }
        }

        public SuffixTrie Build()
        {
            var edge = new List<byte> { 0 };
            var first = new List<int> { 0 };
            var count = new List<int> { 0 };
            var tokStart = new List<int> { 0 };
            var tokCount = new List<int> { 0 };
            var tokens = new List<int>();
            var queue = new Queue<(int Old, int New)>();
            queue.Enqueue((0, 0));
            while (queue.Count > 0)
            {
                var (old, now) = queue.Dequeue();
                tokStart[now] = tokens.Count;
                if (_tokens[old] is { } list) tokens.AddRange(list.Distinct());
                tokCount[now] = tokens.Count - tokStart[now];
                first[now] = edge.Count;
                count[now] = _children[old]?.Count ?? 0;
                if (_children[old] is { } map)
                    foreach (var (b, child) in map)
                    {
                        int id = edge.Count;
                        edge.Add(b); first.Add(0); count.Add(0); tokStart.Add(0); tokCount.Add(0);
                        queue.Enqueue((child, id));
                    }
            }
            return new SuffixTrie([.. edge], [.. first], [.. count], [.. tokStart], [.. tokCount], [.. tokens]);
        }
    }
}
