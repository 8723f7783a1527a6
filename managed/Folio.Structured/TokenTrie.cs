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
        (BelowAsciiLo, BelowAsciiHi, BelowHighByte, HeightBelow, Utf8Below) = BytesBelow();
        (SubtreeTokens, SubtreeTokenStart, SubtreeTokenEnd) = TokensInDepthFirstOrder();
    }

    /// <summary>Per node, the ASCII bytes on the edges strictly below it (bits of bytes 0–63 in Lo, 64–127 in Hi) and
    /// whether a byte ≥ 128 is among them: a walk whose automaton steps every one of them alike, to states that are
    /// not final, allows the whole subtree without visiting it (<see cref="ByteDfa.MainAsciiStep"/>).</summary>
    public ulong[] BelowAsciiLo { get; }
    public ulong[] BelowAsciiHi { get; }
    public bool[] BelowHighByte { get; }

    /// <summary>Per node, the <see cref="Utf8Prefix"/> positions (bit q) from which every path below it is well-formed
    /// UTF-8 (it may stop inside a character): with bit <see cref="Utf8Prefix.Boundary"/> set, the non-ASCII bytes
    /// below are whole characters or a last one cut short, which a string body steps like one character each.</summary>
    public byte[] Utf8Below { get; }

    /// <summary>Per node, the length in bytes of its longest path down (0 for a leaf).</summary>
    public int[] HeightBelow { get; }

    /// <summary>Token ids in depth-first order: node n's subtree holds <see cref="SubtreeTokens"/>[SubtreeTokenStart[n]
    /// .. SubtreeTokenEnd[n]), its own tokens first.</summary>
    public int[] SubtreeTokens { get; }
    public int[] SubtreeTokenStart { get; }
    public int[] SubtreeTokenEnd { get; }

    private (ulong[], ulong[], bool[], int[], byte[]) BytesBelow()
    {
        int n = EdgeByte.Length;
        var height = new int[n];
        var utf8 = new byte[n];
        Array.Fill(utf8, (byte)((1 << Utf8Prefix.States) - 1));
        var lo = new ulong[n];
        var hi = new ulong[n];
        var high = new bool[n];
        // Children follow their parent: fold each child's edge byte and its own set into the parent, backwards.
        for (int p = n - 1; p >= 0; p--)
        {
            for (int c = FirstChild[p], e = c + ChildCount[p]; c < e; c++)
            {
                byte b = EdgeByte[c];
                lo[p] |= lo[c];
                hi[p] |= hi[c];
                high[p] |= high[c];
                height[p] = Math.Max(height[p], height[c] + 1);
                // Positions q from which byte b is well-formed and leads to a position well-formed below c.
                int ok = 0;
                for (int q = 0; q < Utf8Prefix.States; q++)
                {
                    int q2 = Utf8Prefix.Step(q, b);
                    if (q2 >= 0 && (utf8[c] & (1 << q2)) != 0) ok |= 1 << q;
                }
                utf8[p] &= (byte)ok;
                if (b < 64) lo[p] |= 1UL << b;
                else if (b < 128) hi[p] |= 1UL << (b - 64);
                else high[p] = true;
            }
        }
        return (lo, hi, high, height, utf8);
    }

    private (int[], int[], int[]) TokensInDepthFirstOrder()
    {
        int n = EdgeByte.Length;
        var order = new int[Tokens.Length];
        var start = new int[n];
        var end = new int[n];
        int k = 0;
        // Explicit stack (tries are up to ~128 levels deep): a node is pushed once to open and once to close.
        var stack = new Stack<(int Node, bool Close)>();
        stack.Push((0, false));
        while (stack.Count > 0)
        {
            var (node, close) = stack.Pop();
            if (close)
            {
                end[node] = k;
                continue;
            }
            start[node] = k;
            for (int t = TokenStart[node], te = t + TokenCount[node]; t < te; t++) order[k++] = Tokens[t];
            stack.Push((node, true));
            for (int c = FirstChild[node] + ChildCount[node] - 1; c >= FirstChild[node]; c--) stack.Push((c, false));
        }
        return (order, start, end);
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
