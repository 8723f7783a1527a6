namespace Folio.Core.KvCache;

/// <summary>
/// The prefix-cache map of the GPU pool: chained block hash → block id, plus what confirms a hit without
/// trusting the hash. A cached block records its parent (block id and that block's generation at caching
/// time) and, for a first block, its <see cref="CacheKey"/>. A lookup accepts block <c>b</c> at logical index
/// <c>i</c> only when b's token ids equal the prompt's and either i = 0 and the keys are equal, or b's parent
/// is the block accepted at i-1, still in the same generation (not reused since). By induction the whole
/// chain of token ids and keys matches, so a hash collision can cost a hit but never alias two blocks.
/// </summary>
internal sealed class PrefixCache
{
    private readonly BlockPool _pool;
    private readonly IBlockHasher _hasher;
    private readonly BlockHashMap _map;
    private readonly int[] _parent;
    private readonly int[] _parentGeneration;
    private readonly ulong[] _parentHash;
    private readonly ulong[] _extraKey;
    private readonly CacheKey[] _rootKey;

    internal PrefixCache(BlockPool pool, IBlockHasher hasher)
    {
        _pool = pool;
        _hasher = hasher;
        // Room for every block: inserts never resize, so the map allocates nothing after construction.
        _map = new BlockHashMap(pool.NumBlocks);
        _parent = new int[pool.NumBlocks];
        _parentGeneration = new int[pool.NumBlocks];
        _parentHash = new ulong[pool.NumBlocks];
        _extraKey = new ulong[pool.NumBlocks];
        _rootKey = new CacheKey[pool.NumBlocks];
    }

    internal IBlockHasher Hasher => _hasher;
    internal int Count => _map.Count;
    internal BlockHashMap Map => _map;

    internal ulong ParentHashOf(int block) => _parentHash[block];
    internal ulong ExtraKeyOf(int block) => _extraKey[block];
    internal int ParentOf(int block) => _parent[block];
    internal CacheKey RootKeyOf(int block) => _rootKey[block];
    internal int ParentGenerationOf(int block) => _parentGeneration[block];

    /// <summary>Hashes of the probe's full blocks up to <paramref name="numBlocks"/> (computing only the new ones).</summary>
    internal void ExtendHashes(PrefixProbe probe, ReadOnlySpan<int> tokens, CacheKey key, int numBlocks)
    {
        probe.Prepare(key, numBlocks, _hasher);
        int bs = _pool.BlockSizeTokens;
        var hashes = probe.Hashes;
        ulong h = probe.NumHashed == 0 ? 0 : hashes[probe.NumHashed - 1];
        for (int i = probe.NumHashed; i < numBlocks; i++)
        {
            h = _hasher.Hash(h, tokens.Slice(i * bs, bs), _hasher.ExtraKey(probe.SaltHash, probe.AdapterHash, i));
            hashes[i] = h;
        }
        if (numBlocks > probe.NumHashed)
            probe.NumHashed = numBlocks;
    }

    /// <summary>
    /// Walks the cached chain of <paramref name="tokens"/> for at most <paramref name="maxBlocks"/> blocks, by the
    /// probe's hashes (<see cref="ExtendHashes"/> first). Returns the number of leading blocks hit, each confirmed by
    /// its token ids; writes their ids to the probe's blocks; counts the hit blocks that are free (must be revived).
    /// </summary>
    internal int Walk(ReadOnlySpan<int> tokens, CacheKey key, PrefixProbe probe, int maxBlocks, out int numRevived)
    {
        int bs = _pool.BlockSizeTokens;
        var hashes = probe.Hashes;
        var hitBlocks = probe.Blocks;
        int prev = -1;
        numRevived = 0;
        int i = 0;
        for (; i < maxBlocks; i++)
        {
            ReadOnlySpan<int> blockTokens = tokens.Slice(i * bs, bs);
            if (!_map.TryGetValue(hashes[i], out int b) || !Confirms(b, i, prev, blockTokens, key))
                break;
            if (_pool.RefCount(b) == 0)
                numRevived++;
            hitBlocks[i] = b;
            prev = b;
        }
        return i;
    }

    private bool Confirms(int b, int index, int prev, ReadOnlySpan<int> blockTokens, CacheKey key)
    {
        if (!_pool.TokensOf(b).SequenceEqual(blockTokens))
            return false;
        if (index == 0)
            return _parent[b] == -1 && _rootKey[b] == key;
        return _parent[b] == prev && _parentGeneration[b] == _pool.Generation(prev);
    }

    /// <summary>Registers a full used block under <paramref name="hash"/>; false when the hash is taken.</summary>
    internal bool TryInsert(int block, int parent, ulong parentHash, ulong hash, ulong extraKey, CacheKey key)
    {
        if (!_map.TryAdd(hash, block))
            return false;
        _parent[block] = parent;
        _parentGeneration[block] = parent < 0 ? 0 : _pool.Generation(parent);
        _parentHash[block] = parentHash;
        _extraKey[block] = extraKey;
        _rootKey[block] = parent < 0 ? key : default;
        _pool.SetCached(block, hash);
        return true;
    }

    /// <summary>Forgets a cached block that is about to be reused for new contents.</summary>
    internal void Evict(int block)
    {
        _map.Remove(_pool.HashOf(block));
        _rootKey[block] = default;   // drop the string references
        _pool.ClearCached(block);
    }
}
