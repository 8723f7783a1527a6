namespace Folio.Core.KvCache;

/// <summary>
/// A fixed set of KV blocks, all allocated up front. Per block: reference count, recorded token ids (one flat
/// preallocated array, <c>block × BlockSizeTokens</c> onward), the number of tokens recorded, the prefix-cache
/// hash and cached flag, and a generation that changes each time the block is reused for new contents.
/// Free blocks (reference count 0) form an intrusive doubly linked list over two int arrays, in eviction
/// order: the head is evicted first. Pop, append, prepend and remove-from-middle are O(1) and allocate nothing.
/// Mutation goes through <see cref="KvCacheManager"/>; this type exposes reads.
/// </summary>
public sealed class BlockPool
{
    private readonly int[] _refCount;
    private readonly int[] _numTokens;
    private readonly int[] _tokens;
    private readonly ulong[] _hash;
    private readonly bool[] _cached;
    private readonly int[] _generation;
    // Links of the free list; index NumBlocks is the sentinel (its Next is the head, its Prev the tail).
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly int _sentinel;

    internal BlockPool(int numBlocks, int blockSizeTokens)
    {
        NumBlocks = numBlocks;
        BlockSizeTokens = blockSizeTokens;
        _refCount = new int[numBlocks];
        _numTokens = new int[numBlocks];
        _tokens = new int[checked(numBlocks * blockSizeTokens)];
        _hash = new ulong[numBlocks];
        _cached = new bool[numBlocks];
        _generation = new int[numBlocks];
        _next = new int[numBlocks + 1];
        _prev = new int[numBlocks + 1];
        _sentinel = numBlocks;
        // Initially every block is free, in id order.
        for (int i = 0; i <= numBlocks; i++)
        {
            _next[i] = i == numBlocks ? (numBlocks == 0 ? _sentinel : 0) : i + 1;
            _prev[i] = i == 0 ? _sentinel : i - 1;
        }
        _prev[_sentinel] = numBlocks == 0 ? _sentinel : numBlocks - 1;
        NumFreeBlocks = numBlocks;
    }

    public int NumBlocks { get; }
    public int BlockSizeTokens { get; }
    public int NumFreeBlocks { get; private set; }
    public int NumUsedBlocks => NumBlocks - NumFreeBlocks;

    /// <summary>Blocks whose reference count is above 1.</summary>
    public int NumSharedBlocks { get; private set; }

    /// <summary>Blocks registered in the prefix cache (used or free).</summary>
    public int NumCachedBlocks { get; private set; }

    /// <summary>Tokens recorded in used blocks (each physical block counted once).</summary>
    public long TokenStates { get; private set; }

    public int RefCount(int block) => _refCount[block];
    public bool IsCached(int block) => _cached[block];

    /// <summary>The prefix-cache hash of a cached block (meaningless when not cached).</summary>
    public ulong HashOf(int block) => _hash[block];

    public int NumTokensIn(int block) => _numTokens[block];
    public int Generation(int block) => _generation[block];

    /// <summary>The token ids recorded in a block (kept after it is freed, until it is reused).</summary>
    public ReadOnlySpan<int> TokensOf(int block)
        => _tokens.AsSpan(block * BlockSizeTokens, _numTokens[block]);

    /// <summary>The next block to evict, or -1 when none is free.</summary>
    public int FirstFree => _next[_sentinel] == _sentinel ? -1 : _next[_sentinel];

    /// <summary>The block after <paramref name="block"/> in eviction order, or -1 at the end.</summary>
    public int NextFree(int block) => _next[block] == _sentinel ? -1 : _next[block];

    internal int LastFree => _prev[_sentinel] == _sentinel ? -1 : _prev[_sentinel];

    /// <summary>Takes the head of the free list for new contents. The caller has evicted it from the cache.</summary>
    internal int TakeFirstFree()
    {
        int b = _next[_sentinel];
        Unlink(b);
        _refCount[b] = 1;
        _numTokens[b] = 0;
        _generation[b]++;
        return b;
    }

    /// <summary>Takes a free block out of the middle of the list with its contents (a prefix-cache hit).</summary>
    internal void Revive(int block)
    {
        Unlink(block);
        _refCount[block] = 1;
        TokenStates += _numTokens[block];
    }

    internal void AddRef(int block)
    {
        if (_refCount[block] == 1)
            NumSharedBlocks++;
        _refCount[block]++;
    }

    /// <summary>
    /// Drops one reference; at zero the block joins the free list: cached blocks at the tail (kept longest),
    /// uncached ones at the head (nothing worth keeping). Returns true when the block became free.
    /// </summary>
    internal bool Release(int block)
    {
        int rc = --_refCount[block];
        if (rc == 1)
            NumSharedBlocks--;
        if (rc != 0)
            return false;
        TokenStates -= _numTokens[block];
        if (_cached[block])
            LinkBefore(_sentinel, block);
        else
            LinkBefore(_next[_sentinel], block);
        return true;
    }

    /// <summary>Records token ids at the end of a used block.</summary>
    internal void Record(int block, ReadOnlySpan<int> tokens)
    {
        tokens.CopyTo(_tokens.AsSpan(block * BlockSizeTokens + _numTokens[block]));
        _numTokens[block] += tokens.Length;
        TokenStates += tokens.Length;
    }

    /// <summary>Records one token id at the end of a used block (the decode hot path).</summary>
    internal void Record(int block, int token)
    {
        _tokens[block * BlockSizeTokens + _numTokens[block]] = token;
        _numTokens[block]++;
        TokenStates++;
    }

    /// <summary>
    /// Records one token id at <paramref name="offset"/> of a used block that holds exactly <paramref name="offset"/>
    /// tokens (the decode fast path: the caller's block table knows the count, so it is written, never read).
    /// </summary>
    internal void RecordAt(int block, int offset, int token)
    {
        _tokens[block * BlockSizeTokens + offset] = token;
        _numTokens[block] = offset + 1;
        TokenStates++;
    }

    /// <summary>Copies the recorded tokens of <paramref name="src"/> (in <paramref name="srcPool"/>) into a fresh used block.</summary>
    internal void CopyFrom(BlockPool srcPool, int src, int dst)
        => Record(dst, srcPool.TokensOf(src));

    internal void SetCached(int block, ulong hash)
    {
        _hash[block] = hash;
        _cached[block] = true;
        NumCachedBlocks++;
    }

    internal void ClearCached(int block)
    {
        _cached[block] = false;
        NumCachedBlocks--;
    }

    // Raw links for KvInvariants (it walks the list itself so that it can detect corruption).
    internal int Sentinel => _sentinel;
    internal int RawNext(int i) => _next[i];
    internal int RawPrev(int i) => _prev[i];

    private void Unlink(int b)
    {
        int p = _prev[b], n = _next[b];
        _next[p] = n;
        _prev[n] = p;
        _next[b] = _prev[b] = -1;
        NumFreeBlocks--;
    }

    private void LinkBefore(int at, int b)
    {
        int p = _prev[at];
        _next[p] = b;
        _prev[b] = p;
        _next[b] = at;
        _prev[at] = b;
        NumFreeBlocks++;
    }
}
