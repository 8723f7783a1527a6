using Folio.Core.KvCache;

namespace Folio.Core.Tests.KvCache;

/// <summary>Small builders shared by the KV cache tests.</summary>
internal static class Kv
{
    public static KvCacheManager Make(int gpuBlocks = 8, int blockSize = 4, int cpuBlocks = 0,
                                      bool prefixCaching = true, IBlockHasher? hasher = null)
        => new(new KvCacheOptions
        {
            NumGpuBlocks = gpuBlocks,
            BlockSizeTokens = blockSize,
            NumCpuBlocks = cpuBlocks,
            EnablePrefixCaching = prefixCaching,
            Hasher = hasher,
        });

    /// <summary>Tokens start, start+1, …, start+count-1.</summary>
    public static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();

    /// <summary>Look the prompt up and admit all of it (the scheduler's sequence of calls).</summary>
    public static BlockTable Admit(KvCacheManager kv, int[] prompt, CacheKey key = default)
    {
        PrefixHit hit = kv.FindCachedPrefix(prompt, key);
        Assert.True(kv.CanAllocate(hit, prompt.Length));
        return kv.Allocate(prompt, hit, prompt.Length, key);
    }

    public static int[] FreeList(BlockPool pool)
    {
        var list = new List<int>();
        for (int b = pool.FirstFree; b != -1; b = pool.NextFree(b))
            list.Add(b);
        return list.ToArray();
    }
}
