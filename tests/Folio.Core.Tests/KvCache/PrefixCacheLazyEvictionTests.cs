using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

/// <summary>
/// The prefix cache evicts lazily: a reused block's hash stays in the map as a stale entry (PrefixCache's class
/// comment). These pin what must stay true: a stale entry is never a hit, it is overwritten when its hash is cached
/// again, and sweeps keep the map within its bound.
/// </summary>
public class PrefixCacheLazyEvictionTests
{
    [Fact]
    public void StaleEntry_IsNeverAHit_EvenWhenItsBlockStillHoldsTheSameChain()
    {
        var kv = Kv.Make(gpuBlocks: 8, blockSize: 4);
        BlockTable x = Kv.Admit(kv, Kv.Range(1, 8));
        kv.CacheFullBlocks(x);
        int a = x.Blocks[0];
        ulong h = kv.GpuPool.HashOf(a);
        kv.Free(x);
        Assert.Equal(8, kv.FindCachedPrefix(Kv.Range(1, 9), default).NumCachedTokens);

        // The state of a block the manager has just taken for new contents: evicted, its old tokens, parent (none)
        // and key still recorded, so the token/chain check alone would accept it. Only liveness refuses it.
        kv.Cache!.Evict(a);
        Assert.True(kv.Cache.Map.TryGetValue(h, out int holder));
        Assert.Equal(a, holder);
        Assert.False(kv.Cache.IsLive(h, a));
        Assert.Equal(0, kv.FindCachedPrefix(Kv.Range(1, 9), default).NumCachedTokens);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void ReusedBlocks_LeaveStaleEntries_ThatMissAndAreOverwrittenWhenCachedAgain()
    {
        var kv = Kv.Make(gpuBlocks: 4, blockSize: 4);
        int[] x = Kv.Range(1, 8);
        BlockTable tx = Kv.Admit(kv, x);
        kv.CacheFullBlocks(tx);
        ulong h0 = kv.GpuPool.HashOf(tx.Blocks[0]);
        kv.Free(tx);

        // Y takes every block, so X's two blocks are reused; their entries stay, stale.
        BlockTable ty = Kv.Admit(kv, Kv.Range(100, 16));
        kv.CacheFullBlocks(ty);
        Assert.Equal(6, kv.Cache!.Map.Count);
        Assert.Equal(4, kv.GetStats().CachedBlocks);
        Assert.True(kv.Cache.Map.TryGetValue(h0, out int stale));
        Assert.False(kv.Cache.IsLive(h0, stale));
        Assert.Equal(0, kv.FindCachedPrefix(Kv.Range(1, 9), default).NumCachedTokens);
        KvInvariants.Check(kv);
        kv.Free(ty);

        // X again: its hashes are cached again by overwriting the stale entries, not by adding entries.
        BlockTable tx2 = Kv.Admit(kv, x);
        kv.CacheFullBlocks(tx2);
        Assert.Equal(6, kv.Cache.Map.Count);
        Assert.True(kv.Cache.Map.TryGetValue(h0, out int live));
        Assert.Equal(tx2.Blocks[0], live);
        Assert.True(kv.Cache.IsLive(h0, live));
        Assert.Equal(8, kv.FindCachedPrefix(Kv.Range(1, 9), default).NumCachedTokens);
        KvInvariants.Check(kv);
    }

    [Fact]
    public void Sweeps_KeepTheMapWithinItsBound_AndTheLiveEntriesFindable()
    {
        var kv = Kv.Make(gpuBlocks: 4, blockSize: 4);
        Assert.Equal(8, kv.Cache!.Map.MaxEntries);
        int sweeps = 0;
        int[] prompt = [];
        for (int i = 0; i < 50; i++)
        {
            int before = kv.Cache.Map.Count;
            prompt = Kv.Range(1000 * (i + 1), 16);
            BlockTable t = Kv.Admit(kv, prompt);
            kv.CacheFullBlocks(t);
            kv.Free(t);
            if (kv.Cache.Map.Count < before)
                sweeps++;
            // Round 0 adds 4 entries; round 1 adds 4 (the first 4 now stale); round 2's admission makes all 8 stale and
            // its first insert finds the map full, so it sweeps to 0 and adds 4; and so on, alternating.
            Assert.Equal(i % 2 == 0 ? 4 : 8, kv.Cache.Map.Count);
            KvInvariants.Check(kv);
        }
        Assert.Equal(24, sweeps);   // rounds 2, 4, …, 48
        Assert.Equal(16, kv.FindCachedPrefix([.. prompt, 1], default).NumCachedTokens);
    }
}
