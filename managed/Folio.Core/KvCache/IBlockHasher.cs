namespace Folio.Core.KvCache;

/// <summary>
/// Hashes one full block for the prefix cache. The hash chains the parent block's hash (0 for the first
/// block), the block's token ids and an extra key (salt and adapter). It must be deterministic. Collisions
/// are harmless for correctness (hits are confirmed by comparing token ids) but cost hit rate.
/// </summary>
public interface IBlockHasher
{
    ulong Hash(ulong parentHash, ReadOnlySpan<int> blockTokens, ulong extraKey);

    /// <summary>A cache key's string (salt or adapter name) as a number; 0 only for null (no key).</summary>
    ulong HashString(string? s) => DefaultBlockHasher.HashString(s);

    /// <summary>The extra key of block <paramref name="blockIndex"/> from the hashed salt and adapter name.</summary>
    ulong ExtraKey(ulong saltHash, ulong adapterHash, int blockIndex) => DefaultBlockHasher.ExtraKey(saltHash, adapterHash, blockIndex);
}
