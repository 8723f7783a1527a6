namespace Folio.Core.KvCache;

/// <summary>
/// One sequence's prefix-cache lookup state, owned by the caller (a scheduler keeps one per waiting sequence):
/// the chained hashes of its full blocks, computed once and extended as the tokens grow (a request that waits
/// several steps is not re-hashed at every lookup), and the block ids of its latest hit, which
/// <see cref="KvCacheManager.Allocate(ReadOnlySpan{int}, PrefixHit, int, CacheKey, BlockTable)"/> takes from
/// the <see cref="PrefixHit"/>. The hashes are of the tokens it was first given: use a probe for one token
/// sequence (that grows) only. A hit is confirmed by comparing token ids, so a probe given other tokens finds
/// less, never a wrong block.
/// </summary>
public sealed class PrefixProbe
{
    private bool _keyed;

    public PrefixProbe(int capacityBlocks = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBlocks);
        Hashes = new ulong[capacityBlocks];
        Blocks = new int[capacityBlocks];
    }

    /// <summary>Chained hash of full block i (parent hash, its tokens, the key's extra material).</summary>
    internal ulong[] Hashes { get; private set; }
    internal int NumHashed { get; set; }
    /// <summary>Block ids of the latest hit, in order.</summary>
    internal int[] Blocks { get; private set; }
    /// <summary>The latest lookup's result: Allocate of exactly this hit, nothing freed since, reuses its ids.</summary>
    internal PrefixHit Result { get; set; }
    internal CacheKey Key { get; private set; }
    internal ulong SaltHash { get; private set; }
    internal ulong AdapterHash { get; private set; }

    /// <summary>Makes room for <paramref name="numBlocks"/> hashes and ids; starts afresh for another key.</summary>
    internal void Prepare(CacheKey key, int numBlocks, IBlockHasher hasher)
    {
        if (!_keyed || Key != key)
        {
            Key = key;
            SaltHash = hasher.HashString(key.Salt);
            AdapterHash = hasher.HashString(key.Adapter);
            NumHashed = 0;
            _keyed = true;
        }
        if (Hashes.Length < numBlocks)
        {
            int size = Math.Max(numBlocks, 2 * Hashes.Length);
            var hashes = new ulong[size];
            Hashes.AsSpan(0, NumHashed).CopyTo(hashes);
            Hashes = hashes;
            Blocks = new int[size];
        }
    }
}
