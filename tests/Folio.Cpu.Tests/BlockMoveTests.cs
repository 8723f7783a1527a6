using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cpu.Tests;

/// <summary>
/// The plan's block moves reach the backend as its (src, dst) pair arrays: copy-on-write through CopyBlocks,
/// swap-out and swap-in through MoveBlocks between the device cache and the host cache. Both are exact: the
/// tokens equal those of a run that never copies or swaps (and would differ if a copy were skipped, since the
/// copy holds K/V that attention reads), with an fp32 and with a bf16 KV cache.
/// </summary>
public sealed class BlockMoveTests
{
    private sealed record Run(List<int[]> Tokens, long Copied, long SwappedOut, long SwappedIn, long Preemptions);

    private static Run Generate(Folio.Core.Models.DecoderModel model, CpuBackend backend, IReadOnlyList<int[]> prompts, SamplingParams p,
        int blockSize, int gpuBlocks, int cpuBlocks = 0, int maxBatchedTokens = 2048)
    {
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = gpuBlocks, BlockSizeTokens = blockSize, NumCpuBlocks = cpuBlocks, EnablePrefixCaching = false },
            Scheduler = new SchedulerOptions
            {
                PreemptionMode = cpuBlocks > 0 ? PreemptionMode.Swap : PreemptionMode.Recompute, MaxNumBatchedTokens = maxBatchedTokens, EosTokenId = 2,
            },
        };
        using var executor = new ModelExecutor(model, backend, gpuBlocks, cpuBlocks, blockSize, [2]);
        var engine = new LlmEngine(options, executor);
        var outputs = engine.Generate(prompts, p);
        return new Run([.. outputs.SelectMany(o => o.Outputs.Select(c => c.TokenIds.ToArray()))],
            executor.NumBlocksCopied, executor.NumBlocksSwappedOut, executor.NumBlocksSwappedIn, engine.GetSchedulerStats().Preemptions);
    }

    private static List<int[]> Prompts(int count, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => Enumerable.Range(0, 5 + 4 * i + i % 3).Select(_ => rng.Next(3, 500)).ToArray())];
    }

    /// <summary>The caches' element types (a bf16 cache on every CPU since the twentieth session).</summary>
    public static TheoryData<DType> KvTypes() => new() { DType.F32, DType.BF16 };

    [Theory]
    [MemberData(nameof(KvTypes))]
    public void ForkedSamplesCopyTheirSharedPartialBlockExactly(DType kv)
    {
        using var backend = new CpuBackend(2, kvCacheType: kv);
        using var model = HfParityTests.LoadModel(Fixtures.Hf("llama3_rope"), backend);
        var prompts = Prompts(3, 11);   // 5, 10 and 15 tokens: each ends inside a 4-token block
        var p = new SamplingParams { N = 3, Temperature = 0.8f, Seed = 21, MaxTokens = 10, IgnoreEos = true };
        var shared = Generate(model, backend, prompts, p, blockSize: 4, gpuBlocks: 64);
        var unshared = Generate(model, backend, prompts, p, blockSize: 1, gpuBlocks: 256);   // full blocks only: nothing to copy
        Assert.True(shared.Copied > 0, "the n-sample forks copied no block");
        Assert.Equal(0, unshared.Copied);
        Assert.Equal(9, shared.Tokens.Count);
        Assert.Equal(unshared.Tokens, shared.Tokens);
    }

    [Theory]
    [MemberData(nameof(KvTypes))]
    public void SwappedOutSequencesResumeExactly(DType kv)
    {
        using var backend = new CpuBackend(2, kvCacheType: kv);
        using var model = HfParityTests.LoadModel(Fixtures.Hf("llama3_rope"), backend);
        var prompts = Prompts(12, 12);
        var p = new SamplingParams { Temperature = 0.8f, TopP = 0.9f, Seed = 5, MaxTokens = 12, IgnoreEos = true };
        var roomy = Generate(model, backend, prompts, p, blockSize: 4, gpuBlocks: 512);
        var swapped = Generate(model, backend, prompts, p, blockSize: 4, gpuBlocks: 40, cpuBlocks: 400, maxBatchedTokens: 64);
        Assert.True(swapped.Preemptions > 0 && swapped.SwappedOut > 0, "nothing was swapped out");
        Assert.Equal(swapped.SwappedOut, swapped.SwappedIn);   // every swapped block came back before its request finished
        Assert.Equal((0L, 0L), (roomy.SwappedOut, roomy.Preemptions));
        Assert.Equal(roomy.Tokens, swapped.Tokens);
    }
}
