namespace Folio.Structured;

/// <summary>
/// A trie over the byte strings of a vocabulary's tokens, flattened: node 0 is the root; a node's children are
/// contiguous (<see cref="FirstChild"/> .. + <see cref="ChildCount"/>), sorted by byte; the tokens whose string ends
/// at a node are <see cref="Tokens"/>[TokenStart .. + TokenCount] (several ids may share one string).
/// </summary>
public sealed class TokenTrie
{
    public TokenTrie(IReadOnlyList<byte[]?> tokens)
    {
        var ids = Enumerable.Range(0, tokens.Count).Where(i => tokens[i] is { Length: > 0 }).ToArray();
        Array.Sort(ids, (a, b) =>
        {
            int c = tokens[a]!.AsSpan().SequenceCompareTo(tokens[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        var edge = new List<byte> { 0 };
        var first = new List<int> { 0 };
        var count = new List<int> { 0 };
        var tokStart = new List<int> { 0 };
        var tokCount = new List<int> { 0 };
        var tokList = new List<int>();
        // Breadth-first over (node, range of sorted ids, depth): each node's children get contiguous indices.
        var queue = new Queue<(int Node, int Lo, int Hi, int Depth)>();
        queue.Enqueue((0, 0, ids.Length, 0));
        while (queue.Count > 0)
        {
            var (node, lo, hi, depth) = queue.Dequeue();
            int i = lo;
            tokStart[node] = tokList.Count;
            while (i < hi && tokens[ids[i]]!.Length == depth) tokList.Add(ids[i++]);
            tokCount[node] = tokList.Count - tokStart[node];
            first[node] = edge.Count;
            int children = 0;
            while (i < hi)
            {
                byte b = tokens[ids[i]]![depth];
                int j = i;
                while (j < hi && tokens[ids[j]]![depth] == b) j++;
                int child = edge.Count;
                edge.Add(b); first.Add(0); count.Add(0); tokStart.Add(0); tokCount.Add(0);
                queue.Enqueue((child, i, j, depth + 1));
                children++;
                i = j;
            }
            count[node] = children;
        }
        EdgeByte = [.. edge];
        FirstChild = [.. first];
        ChildCount = [.. count];
        TokenStart = [.. tokStart];
        TokenCount = [.. tokCount];
        Tokens = [.. tokList];
        VocabSize = tokens.Count;
        // Children always follow their parent (breadth-first numbering): sum subtree sizes backwards.
        SubtreeNodes = new int[EdgeByte.Length];
        for (int n = EdgeByte.Length - 1; n >= 0; n--)
        {
            SubtreeNodes[n]++;
            for (int c = FirstChild[n]; c < FirstChild[n] + ChildCount[n]; c++) SubtreeNodes[n] += SubtreeNodes[c];
        }
    }

    /// <summary>Nodes in each node's subtree, itself included.</summary>
    public int[] SubtreeNodes { get; }

    internal TrieView View => new(EdgeByte, FirstChild, ChildCount, TokenStart, TokenCount, Tokens);

    public int VocabSize { get; }
    public int NodeCount => EdgeByte.Length;
    public byte[] EdgeByte { get; }
    public int[] FirstChild { get; }
    public int[] ChildCount { get; }
    public int[] TokenStart { get; }
    public int[] TokenCount { get; }
    public int[] Tokens { get; }
}
