using System.Runtime.CompilerServices;

namespace Folio.Core.Models;

/// <summary>
/// A BPE model's ranked merges, (left id, right id) → (rank, merged id), and the merge loop that applies them to
/// one word the way the Rust <c>tokenizers</c> crate does (<c>Word::merge_all</c>): lowest rank first, leftmost
/// first among equal ranks, until no adjacent pair has a merge. Symbols sit in a doubly linked list over arrays
/// and candidate pairs in a binary heap, so a word of n symbols costs O(n log n): a 1 MiB word with no
/// pre-tokenizer split inside it (untrusted text) must not cost O(n²).
/// </summary>
internal sealed class BpeMerges
{
    private readonly Dictionary<long, (int Rank, int Id)> _merges = [];

    public int Count => _merges.Count;

    /// <summary>Adds a merge unless the pair has one already: the first occurrence ranks, as in tokenizers.</summary>
    public void TryAdd(int left, int right, int rank, int merged) => _merges.TryAdd(Key(left, right), (rank, merged));

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>Merges <paramref name="symbols"/> in place.</summary>
    // Optimized at once rather than tiered: a host's first long prompt would otherwise run unoptimized code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MergeAll(List<int> symbols)
    {
        int n = symbols.Count;
        if (n < 2)
            return;
        var ids = symbols.ToArray();
        var prev = new int[n];
        var next = new int[n];
        // The merge of the pair that starts at each live symbol (rank −1: none), kept current as symbols merge,
        // so that a heap entry is checked without a second lookup in the merge table.
        var pairRank = new int[n];
        var pairId = new int[n];
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // A binary min-heap of (rank << 32 | position of the left symbol): positions only grow along the list, so
        // among equal ranks the smaller key is the leftmost pair. Eight bytes an entry keeps a long word's heap
        // small. An entry is stale when the pair at its position has changed since: its rank no longer matches.
        var heap = new long[n];
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            pairRank[i] = -1;
            if (i + 1 < n && _merges.TryGetValue(Key(ids[i], ids[i + 1]), out var m))
            {
                pairRank[i] = m.Rank;
                pairId[i] = m.Id;
                heap[count++] = ((long)m.Rank << 32) | (uint)i;
            }
        }
        for (int i = count / 2 - 1; i >= 0; i--)
            SiftDown(heap, count, i);   // heapify in O(n)
        while (count > 0)
        {
            long top = heap[0];
            heap[0] = heap[--count];
            SiftDown(heap, count, 0);
            int pos = (int)top;
            if (ids[pos] < 0 || pairRank[pos] != (int)(top >> 32))
                continue;
            int nx = next[pos];
            ids[pos] = pairId[pos];
            ids[nx] = -1;   // dead
            next[pos] = next[nx];
            if (next[nx] >= 0)
                prev[next[nx]] = pos;
            if (prev[pos] >= 0)
                Update(prev[pos], ids, next, pairRank, pairId, ref heap, ref count);
            Update(pos, ids, next, pairRank, pairId, ref heap, ref count);
        }
        symbols.Clear();
        for (int i = 0; i >= 0; i = next[i])
            symbols.Add(ids[i]);
    }

    /// <summary>Recomputes the merge of the pair starting at <paramref name="at"/> and queues it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Update(int at, int[] ids, int[] next, int[] pairRank, int[] pairId, ref long[] heap, ref int count)
    {
        int nx = next[at];
        if (nx < 0 || !_merges.TryGetValue(Key(ids[at], ids[nx]), out var m))
        {
            pairRank[at] = -1;
            return;
        }
        pairRank[at] = m.Rank;
        pairId[at] = m.Id;
        if (count == heap.Length)
            Array.Resize(ref heap, heap.Length * 2);
        long key = ((long)m.Rank << 32) | (uint)at;
        int i = count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (heap[parent] <= key)
                break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SiftDown(long[] heap, int count, int i)
    {
        long key = heap[i];
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= count)
                break;
            if (child + 1 < count && heap[child + 1] < heap[child])
                child++;
            if (heap[child] >= key)
                break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = key;
    }
}
