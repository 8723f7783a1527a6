using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

/// <summary>
/// A prefix lookup's state lives in the caller's <see cref="PrefixProbe"/>: its hashes are computed once per
/// block (a request that waits is not re-hashed at every step), its hit carries its own block ids, and every hash
/// goes through the configured <see cref="IBlockHasher"/>.
/// </summary>
public sealed class PrefixProbeTests
{
    private sealed class CountingHasher : IBlockHasher
    {
        public int Hashes;
        public int Strings;
        public ulong Hash(ulong parentHash, ReadOnlySpan<int> blockTokens, ulong extraKey)
        {
            Hashes++;
            return DefaultBlockHasher.Instance.Hash(parentHash, blockTokens, extraKey);
        }

        public ulong HashString(string? s)
        {
            Strings++;
            return DefaultBlockHasher.HashString(s);
        }
    }

    /// <summary>Ignores the cache salt: with it, salted requests share blocks (so the override is what runs).</summary>
    private sealed class SaltBlindHasher : IBlockHasher
    {
        public ulong Hash(ulong parentHash, ReadOnlySpan<int> blockTokens, ulong extraKey) =>
            DefaultBlockHasher.Instance.Hash(parentHash, blockTokens, 0);

        public ulong ExtraKey(ulong saltHash, ulong adapterHash, int blockIndex) => 0;
    }

    [Fact]
    public void RepeatedLookupsWithOneProbe_HashEachBlockOnce()
    {
        var hasher = new CountingHasher();
        var kv = Kv.Make(gpuBlocks: 16, blockSize: 4, hasher: hasher);
        var probe = new PrefixProbe();
        int[] prompt = Kv.Range(1, 21);   // 5 full blocks, the last token always computed
        for (int i = 0; i < 10; i++)
            Assert.Equal(0, kv.FindCachedPrefix(prompt, new CacheKey("s"), probe).NumCachedTokens);
        Assert.Equal(5, hasher.Hashes);
        Assert.Equal(2, hasher.Strings);   // salt and adapter, once

        // The sequence grows (recompute after generating): only the new blocks are hashed.
        int[] longer = Kv.Range(1, 29);
        kv.FindCachedPrefix(longer, new CacheKey("s"), probe);
        Assert.Equal(7, hasher.Hashes);
        // Without a probe every lookup hashes every block again (what the scheduler did before).
        kv.FindCachedPrefix(prompt, new CacheKey("s"));
        Assert.Equal(12, hasher.Hashes);
    }

    [Fact]
    public void AHitCarriesItsBlockIds_AndAllocateTakesThemAfterOtherLookups()
    {
        var kv = Kv.Make(gpuBlocks: 16, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        BlockTable b = Kv.Admit(kv, Kv.Range(100, 12));
        kv.CacheFullBlocks(a);
        kv.CacheFullBlocks(b);
        var probeA = new PrefixProbe();
        var probeB = new PrefixProbe();
        int[] promptA = [.. Kv.Range(1, 8), 7, 7];
        int[] promptB = [.. Kv.Range(100, 8), 9];
        PrefixHit hitA = kv.FindCachedPrefix(promptA, default, probeA);
        PrefixHit hitB = kv.FindCachedPrefix(promptB, default, probeB);
        Assert.Equal([a.Blocks[0], a.Blocks[1]], hitA.BlockIds.ToArray());
        Assert.Equal([b.Blocks[0], b.Blocks[1]], hitB.BlockIds.ToArray());

        BlockTable ta = kv.Allocate(promptA, hitA, promptA.Length, default);
        Assert.Equal(a.Blocks[..2].ToArray(), ta.Blocks[..2].ToArray());
        // hitB is stale now (Allocate changed the free list): refused, and found again by a new lookup.
        Assert.Throws<InvalidOperationException>(() => kv.CanAllocate(hitB, promptB.Length));
        hitB = kv.FindCachedPrefix(promptB, default, probeB);
        BlockTable tb = kv.Allocate(promptB, hitB, promptB.Length, default);
        Assert.Equal(b.Blocks[..2].ToArray(), tb.Blocks[..2].ToArray());
        KvInvariants.Check(kv);
    }

    [Fact]
    public void AHandMadeHitHasNoBlockIds_AndAnAlteredHitLosesThem()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable a = Kv.Admit(kv, Kv.Range(1, 12));
        kv.CacheFullBlocks(a);
        PrefixHit hit = kv.FindCachedPrefix(Kv.Range(1, 9), default, new PrefixProbe());
        Assert.Equal(2, hit.BlockIds.Length);
        Assert.Equal(0, (hit with { NumRevivedBlocks = 0, NumCachedTokens = 4 }).BlockIds.Length);
        Assert.Equal(0, new PrefixHit(8).BlockIds.Length);
    }

    [Fact]
    public void TheConfiguredHashersExtraKeyDecidesWhatSaltsShare()
    {
        int[] prompt = Kv.Range(1, 9);
        foreach (var (hasher, shared) in new (IBlockHasher?, bool)[] { (null, false), (new SaltBlindHasher(), true) })
        {
            var kv = Kv.Make(gpuBlocks: 8, blockSize: 4, hasher: hasher);
            BlockTable a = Kv.Admit(kv, prompt, new CacheKey("tenant-a"));
            kv.CacheFullBlocks(a);
            // The root block also records its key, so even a salt-blind hash finds only same-key roots by id
            // comparison; the probe's hashes are what differ: a salt-blind hasher puts both keys on one chain.
            var probe = new PrefixProbe();
            kv.FindCachedPrefix(prompt, new CacheKey("tenant-b"), probe);
            var probeA = new PrefixProbe();
            kv.FindCachedPrefix(prompt, new CacheKey("tenant-a"), probeA);
            Assert.Equal(shared, probe.Hashes[0] == probeA.Hashes[0]);
        }
    }
}
