namespace Folio.Core.KvCache;

/// <summary>
/// A fixed set of KV blocks, all allocated up front. Per block: reference count, recorded token ids (one flat
/// preallocated array, <c>block × BlockSizeTokens</c> onward), the number of tokens recorded, the prefix-cache
/// hash and cached flag, and a generation that changes each time the block is reused for new contents.
/// Free blocks (reference count 0) form an intrusive doubly linked list through the blocks' records, in eviction
/// order: the head is evicted first. Pop, append, prepend and remove-from-middle are O(1) and allocate nothing.
/// Mutation goes through <see cref="KvCacheManager"/>; this type exposes reads.
/// </summary>
public sealed class BlockPool
{
    // Per block, one record (reference count, token count, hash, cached flag, generation, free-list links): a block
    // taken from the free list or evicted touches one cache line of bookkeeping, not seven. Index NumBlocks is the
    // free list's sentinel (its Next is the head, its Prev the tail).
    private readonly BlockRecord[] _blocks;
    private readonly int[] _tokens;
    private readonly int _sentinel;

    internal BlockPool(int numBlocks, int blockSizeTokens)
    {
        NumBlocks = numBlocks;
        BlockSizeTokens = blockSizeTokens;
        _blocks = new BlockRecord[numBlocks + 1];
        _tokens = new int[checked(numBlocks * blockSizeTokens)];
        _sentinel = numBlocks;
        // Initially every block is free, in id order.
        for (int i = 0; i <= numBlocks; i++)
        {
            _blocks[i].Next = i == numBlocks ? (numBlocks == 0 ? _sentinel : 0) : i + 1;
            _blocks[i].Prev = i == 0 ? _sentinel : i - 1;
        }
        _blocks[_sentinel].Prev = numBlocks == 0 ? _sentinel : numBlocks - 1;
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

    public int RefCount(int block) => _blocks[block].RefCount;
    public bool IsCached(int block) => _blocks[block].Cached;

    /// <summary>The prefix-cache hash of a cached block (meaningless when not cached).</summary>
    public ulong HashOf(int block) => _blocks[block].Hash;

    public int NumTokensIn(int block) => _blocks[block].NumTokens;
    public int Generation(int block) => _blocks[block].Generation;

    /// <summary>The token ids recorded in a block (kept after it is freed, until it is reused).</summary>
    public ReadOnlySpan<int> TokensOf(int block)
        => _tokens.AsSpan(block * BlockSizeTokens, _blocks[block].NumTokens);

    /// <summary>The next block to evict, or -1 when none is free.</summary>
    public int FirstFree => _blocks[_sentinel].Next == _sentinel ? -1 : _blocks[_sentinel].Next;

    /// <summary>The block after <paramref name="block"/> in eviction order, or -1 at the end.</summary>
    public int NextFree(int block) => _blocks[block].Next == _sentinel ? -1 : _blocks[block].Next;

    internal int LastFree => _blocks[_sentinel].Prev == _sentinel ? -1 : _blocks[_sentinel].Prev;

    /// <summary>Takes the head of the free list for new contents. The caller has evicted it from the cache.</summary>
    internal int TakeFirstFree()
    {
        int b = _blocks[_sentinel].Next;
        Unlink(b);
        _blocks[b].RefCount = 1;
        _blocks[b].NumTokens = 0;
        _blocks[b].Generation++;
        return b;
    }

    /// <summary>Takes a free block out of the middle of the list with its contents (a prefix-cache hit).</summary>
    internal void Revive(int block)
    {
        Unlink(block);
        _blocks[block].RefCount = 1;
        TokenStates += _blocks[block].NumTokens;
    }

    internal void AddRef(int block)
    {
        if (_blocks[block].RefCount == 1)
            NumSharedBlocks++;
        _blocks[block].RefCount++;
    }

    /// <summary>
    /// Drops one reference; at zero the block joins the free list: cached blocks at the tail (kept longest),
    /// uncached ones at the head (nothing worth keeping). Returns true when the block became free.
    /// </summary>
    internal bool Release(int block)
    {
        int rc = --_blocks[block].RefCount;
        if (rc == 1)
            NumSharedBlocks--;
        if (rc != 0)
            return false;
        TokenStates -= _blocks[block].NumTokens;
        if (_blocks[block].Cached)
            LinkBefore(_sentinel, block);
        else
            LinkBefore(_blocks[_sentinel].Next, block);
        return true;
    }

    /// <summary>Records token ids at the end of a used block.</summary>
    internal void Record(int block, ReadOnlySpan<int> tokens)
    {
        tokens.CopyTo(_tokens.AsSpan(block * BlockSizeTokens + _blocks[block].NumTokens));
        _blocks[block].NumTokens += tokens.Length;
        TokenStates += tokens.Length;
    }

    /// <summary>Records one token id at the end of a used block (the decode hot path).</summary>
    internal void Record(int block, int token)
    {
        _tokens[block * BlockSizeTokens + _blocks[block].NumTokens] = token;
        _blocks[block].NumTokens++;
        TokenStates++;
    }

    /// <summary>
    /// Records one token id at <paramref name="offset"/> of a used block that holds exactly <paramref name="offset"/>
    /// tokens (the decode fast path: the caller's block table knows the count, so it is written, never read).
    /// </summary>
    internal void RecordAt(int block, int offset, int token)
    {
        _tokens[block * BlockSizeTokens + offset] = token;
        _blocks[block].NumTokens = offset + 1;
        TokenStates++;
    }

    /// <summary>Copies the recorded tokens of <paramref name="src"/> (in <paramref name="srcPool"/>) into a fresh used block.</summary>
    internal void CopyFrom(BlockPool srcPool, int src, int dst)
        => Record(dst, srcPool.TokensOf(src));

    internal void SetCached(int block, ulong hash)
    {
        _blocks[block].Hash = hash;
        _blocks[block].Cached = true;
        NumCachedBlocks++;
    }

    internal void ClearCached(int block)
    {
        _blocks[block].Cached = false;
        NumCachedBlocks--;
    }

    // Raw links for KvInvariants (it walks the list itself so that it can detect corruption).
    internal int Sentinel => _sentinel;
    internal int RawNext(int i) => _blocks[i].Next;
    internal int RawPrev(int i) => _blocks[i].Prev;

    private void Unlink(int b)
    {
        int p = _blocks[b].Prev, n = _blocks[b].Next;
        _blocks[p].Next = n;
        _blocks[n].Prev = p;
        _blocks[b].Next = _blocks[b].Prev = -1;
        NumFreeBlocks--;
    }

    private void LinkBefore(int at, int b)
    {
        int p = _blocks[at].Prev;
        _blocks[p].Next = b;
        _blocks[b].Prev = p;
        _blocks[b].Next = at;
        _blocks[at].Prev = b;
        NumFreeBlocks++;
    }
}
