namespace Folio.Core.KvCache;

public sealed partial class KvCacheManager
{
    /// <summary>
    /// Read-only prefix-cache lookup: the leading whole blocks of <paramref name="tokens"/> already cached
    /// under <paramref name="key"/>. Never all of the tokens: at least the last token is left to compute.
    /// </summary>
    public PrefixHit FindCachedPrefix(ReadOnlySpan<int> tokens, CacheKey key) =>
        FindCachedPrefix(tokens, key, new PrefixProbe());

    /// <summary>
    /// <see cref="FindCachedPrefix(ReadOnlySpan{int}, CacheKey)"/> with the caller's <paramref name="probe"/>, which
    /// keeps the blocks' hashes between lookups (only blocks not hashed before are hashed) and holds the hit's ids.
    /// </summary>
    public PrefixHit FindCachedPrefix(ReadOnlySpan<int> tokens, CacheKey key, PrefixProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (_cache is null || tokens.Length <= 1)
            return new PrefixHit(0) { Epoch = _epoch };
        int maxBlocks = (tokens.Length - 1) / BlockSizeTokens;
        _cache.ExtendHashes(probe, tokens, key, maxBlocks);
        int hit = _cache.Walk(tokens, key, probe, maxBlocks, out int revived);
        probe.Result = new PrefixHit(hit * BlockSizeTokens)
        {
            NumRevivedBlocks = revived, Epoch = _epoch, LookupId = ++_lookupCounter, Probe = probe, NumHitBlocks = hit,
        };
        return probe.Result;
    }

    /// <summary>
    /// Whether <see cref="Allocate(ReadOnlySpan{int}, PrefixHit, int, CacheKey)"/> can admit a sequence of
    /// <paramref name="numTokens"/> slots with <paramref name="hit"/>: the revived hit blocks plus the new blocks fit
    /// in the free list.
    /// </summary>
    public bool CanAllocate(PrefixHit hit, int numTokens)
    {
        CheckHitShape(hit, numTokens);
        if (hit.NumCachedTokens > 0 && hit.Epoch != _epoch)
            throw new InvalidOperationException(
                "hit: stale PrefixHit (the free list changed since FindCachedPrefix); look the prefix up again.");
        long need = (long)hit.NumRevivedBlocks + BlocksFor(numTokens) - hit.NumCachedTokens / BlockSizeTokens;
        return need <= _gpu.NumFreeBlocks;
    }

    /// <summary>
    /// Admits a sequence: takes the hit's cached blocks and new blocks for tokens[0 .. numTokens), recording
    /// those token ids. Throws <see cref="InvalidOperationException"/> only when <see cref="CanAllocate"/>
    /// would have refused or the hit no longer matches (a caller bug); it then changes nothing.
    /// </summary>
    public BlockTable Allocate(ReadOnlySpan<int> tokens, PrefixHit hit, int numTokens, CacheKey key) =>
        Allocate(tokens, hit, numTokens, key, reuse: null);

    /// <summary>
    /// <see cref="CreateTable"/> made a table for a sequence ahead of time (outside the step, so that admitting it
    /// allocates nothing): Allocate fills that table instead of a new one. The same table may be filled again
    /// after it was freed (a sequence readmitted after recompute preemption).
    /// </summary>
    public BlockTable Allocate(ReadOnlySpan<int> tokens, PrefixHit hit, int numTokens, CacheKey key, BlockTable? reuse)
    {
        CheckHitShape(hit, numTokens);
        if (reuse is not null && (!ReferenceEquals(reuse.Owner, this) || reuse.IsAlive || reuse.Key != key))
            throw new ArgumentException("reuse: a table of this manager, not in use, with the same key is needed.", nameof(reuse));
        if (numTokens > tokens.Length)
            throw new ArgumentOutOfRangeException(nameof(numTokens), numTokens,
                $"numTokens must be <= tokens.Length ({tokens.Length}).");
        int bs = BlockSizeTokens;
        int hitBlocks = hit.NumCachedTokens / bs;
        if (hitBlocks > 0 && hit.NumCachedTokens > tokens.Length - 1)
            throw new ArgumentException(
                $"hit: {hit.NumCachedTokens} cached tokens leave none of the {tokens.Length} tokens to compute.", nameof(hit));
        int revived = 0;
        ulong lastHash = 0;
        int[] ids = [];
        if (hitBlocks > 0)
        {
            if (_cache is null)
                throw new InvalidOperationException("hit: prefix caching is disabled, so no hit can exist.");
            var probe = hit.Probe;
            if (probe is not null && hit == probe.Result && hit.Epoch == _epoch)
            {
                // Exactly the probe's latest result (no field altered), nothing evicted or freed since: its ids
                // are still the chain and its revived count is exact.
                // Confirm the caller passed the same tokens and key (cheap: no hashing, no map lookups).
                ids = probe.Blocks;
                for (int i = 0; i < hitBlocks; i++)
                {
                    if (!_gpu.TokensOf(ids[i]).SequenceEqual(tokens.Slice(i * bs, bs)))
                        throw new InvalidOperationException(
                            $"hit: the tokens of block {i} differ from those FindCachedPrefix was given.");
                }
                if (_cache.RootKeyOf(ids[0]) != key)
                    throw new InvalidOperationException("hit: the key differs from the one FindCachedPrefix was given.");
                revived = hit.NumRevivedBlocks;
            }
            else
            {
                // An altered, stale or hand-made hit: find its blocks again (this also proves it is not stale).
                probe ??= new PrefixProbe(hitBlocks);
                probe.Result = default;
                _cache.ExtendHashes(probe, tokens, key, hitBlocks);
                int found = _cache.Walk(tokens, key, probe, hitBlocks, out revived);
                if (found < hitBlocks)
                    throw new InvalidOperationException(
                        $"hit: stale PrefixHit ({hit.NumCachedTokens} tokens promised, {found * bs} still cached); " +
                        "call FindCachedPrefix again just before Allocate.");
                ids = probe.Blocks;
            }
            lastHash = _gpu.HashOf(ids[hitBlocks - 1]);
        }
        int totalBlocks = BlocksFor(numTokens);
        int need = revived + totalBlocks - hitBlocks;
        if (need > _gpu.NumFreeBlocks)
            throw new InvalidOperationException(
                $"Allocate needs {need} free blocks, {_gpu.NumFreeBlocks} are free: call CanAllocate first.");

        // Commit. Hit blocks leave the free list before any new block is popped, so none is evicted here.
        var table = reuse ?? new BlockTable(this, new int[Math.Max(4, totalBlocks)], key);
        table.EnsureCapacity(numTokens);
        table.IsAlive = true;
        table.Location = BlockLocation.Gpu;
        table.NumTokens = numTokens;
        table.NumHashedBlocks = hitBlocks;
        table.LastHash = lastHash;
        for (int i = 0; i < hitBlocks; i++)
        {
            int b = ids[i];
            if (_gpu.RefCount(b) == 0)
                _gpu.Revive(b);
            else
                _gpu.AddRef(b);
            table.AddBlock(b);
        }
        for (int i = hitBlocks; i < totalBlocks; i++)
        {
            int b = TakeFreeGpuBlock();
            table.AddBlock(b);
            int start = i * bs;
            _gpu.Record(b, tokens.Slice(start, Math.Min(bs, numTokens - start)));
        }
        table.LastBlockPrivate = totalBlocks > 0 && _gpu.RefCount(table.LastBlock) == 1;
        Register(table);
        _epoch++;
        if (_cache is not null)
        {
            _prefixQueryTokens += tokens.Length;
            _prefixHitTokens += hit.NumCachedTokens;
        }
        return table;
    }

    /// <summary>A table not yet in use (no blocks), with room for <paramref name="capacityTokens"/> tokens, for
    /// <see cref="Allocate(ReadOnlySpan{int}, PrefixHit, int, CacheKey, BlockTable)"/> to fill later.</summary>
    public BlockTable CreateTable(CacheKey key, int capacityTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityTokens);
        return new BlockTable(this, new int[Math.Max(4, BlocksFor(capacityTokens))], key) { IsAlive = false };
    }

    private void CheckHitShape(PrefixHit hit, int numTokens)
    {
        if (numTokens < 0)
            throw new ArgumentOutOfRangeException(nameof(numTokens), numTokens, "numTokens must be >= 0.");
        if (hit.NumCachedTokens < 0 || hit.NumCachedTokens % BlockSizeTokens != 0)
            throw new ArgumentException(
                $"hit: NumCachedTokens must be a non-negative multiple of {BlockSizeTokens} (got {hit.NumCachedTokens}).", nameof(hit));
        if (hit.NumRevivedBlocks < 0 || hit.NumRevivedBlocks > hit.NumCachedTokens / BlockSizeTokens)
            throw new ArgumentException($"hit: NumRevivedBlocks {hit.NumRevivedBlocks} is out of range.", nameof(hit));
        if (numTokens < hit.NumCachedTokens)
            throw new ArgumentOutOfRangeException(nameof(numTokens), numTokens,
                $"numTokens must be >= the hit's {hit.NumCachedTokens} cached tokens.");
    }
}
