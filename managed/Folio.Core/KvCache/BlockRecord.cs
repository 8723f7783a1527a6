namespace Folio.Core.KvCache;

/// <summary>
/// A block's bookkeeping in its <see cref="BlockPool"/>, kept together (32 bytes, two blocks per cache line): taking a
/// free block, evicting its old hash and linking it back when it is freed read and write these fields together, and
/// with least-recently-used reuse the block taken is the coldest in the pool.
/// </summary>
internal struct BlockRecord
{
    /// <summary>The prefix-cache hash (meaningful while <see cref="Cached"/>).</summary>
    public ulong Hash;
    public int RefCount;
    /// <summary>Token ids recorded in the block.</summary>
    public int NumTokens;
    /// <summary>Changes each time the block is reused for new contents.</summary>
    public int Generation;
    /// <summary>Free-list links (block ids, the sentinel, or -1 while the block is used).</summary>
    public int Next;
    public int Prev;
    public bool Cached;
}
