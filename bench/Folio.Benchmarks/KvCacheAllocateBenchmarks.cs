using BenchmarkDotNet.Attributes;
using Folio.Core.KvCache;

namespace Folio.Benchmarks;

/// <summary>
/// Admitting a 2,048-token prompt the way the scheduler does: <c>FindCachedPrefix</c>, <c>CanAllocate</c>,
/// <c>Allocate</c>; the sequence is then freed so that each invocation starts from the same state (Free is
/// included in every figure). Block size 16, 4,096 GPU blocks, prefix caching on.
/// </summary>
[ShortJob]
[MemoryDiagnoser]
public class KvCacheAllocateBenchmarks
{
    private const int PromptTokens = 2048;
    private KvCacheManager _kv = null!;
    private int[] _prompt = null!;
    private int _salt;

    [GlobalSetup(Targets = [nameof(Miss), nameof(MissThenCache)])]
    public void SetupMiss()
    {
        _kv = NewManager();
        _prompt = Enumerable.Range(1, PromptTokens).ToArray();
    }

    [GlobalSetup(Target = nameof(FullHitShared))]
    public void SetupHitShared()
    {
        _kv = NewManager();
        _prompt = Enumerable.Range(1, PromptTokens).ToArray();
        // Another live sequence holds the cached prompt (a shared system prompt).
        BlockTable holder = _kv.Allocate(_prompt, default, PromptTokens, default);
        _kv.CacheFullBlocks(holder);
    }

    [GlobalSetup(Target = nameof(FullHitRevive))]
    public void SetupHitRevive()
    {
        _kv = NewManager();
        _prompt = Enumerable.Range(1, PromptTokens).ToArray();
        // The cached prompt's blocks are free: the hit takes them out of the middle of the free list.
        BlockTable t = _kv.Allocate(_prompt, default, PromptTokens, default);
        _kv.CacheFullBlocks(t);
        _kv.Free(t);
    }

    /// <summary>No cached prefix (the lookup misses on the first block): 128 new blocks.</summary>
    [Benchmark]
    public int Miss() => AdmitAndFree(cache: false);

    /// <summary>A miss whose 128 full blocks are then hashed into the prefix cache (evicting older ones).</summary>
    [Benchmark]
    public int MissThenCache()
    {
        _prompt[0] = ++_salt;   // a new first token: a new chain, so every invocation misses
        return AdmitAndFree(cache: true);
    }

    /// <summary>127 of 128 blocks hit (the last block is recomputed), held by another live sequence.</summary>
    [Benchmark]
    public int FullHitShared() => AdmitAndFree(cache: false);

    /// <summary>127 of 128 blocks hit, all free: revived out of the free list.</summary>
    [Benchmark]
    public int FullHitRevive() => AdmitAndFree(cache: false);

    private int AdmitAndFree(bool cache)
    {
        PrefixHit hit = _kv.FindCachedPrefix(_prompt, default);
        if (!_kv.CanAllocate(hit, PromptTokens))
            throw new InvalidOperationException("benchmark pool too small");
        BlockTable t = _kv.Allocate(_prompt, hit, PromptTokens, default);
        if (cache)
            _kv.CacheFullBlocks(t);
        _kv.Free(t);
        return hit.NumCachedTokens;
    }

    private static KvCacheManager NewManager()
        => new(new KvCacheOptions { NumGpuBlocks = 4096, BlockSizeTokens = 16 });
}
