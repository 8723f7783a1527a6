using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cpu.Tests;

/// <summary>
/// The real model under the scheduler and engine: paging is invisible in the results. The same requests give
/// identical tokens with block size 1, 16 and 64, with and without prefix caching, with forced preemption
/// (recompute and swap), and alone versus in a batch of 64; greedy output equals Hugging Face's.
/// </summary>
public sealed class EngineWithModelTests
{
    private static readonly string Folder = Fixtures.Hf("llama3_rope");

    private sealed record Setup(int BlockSize = 16, int GpuBlocks = 512, bool PrefixCaching = true,
        PreemptionMode Preemption = PreemptionMode.Recompute, int CpuBlocks = 0, int MaxBatchedTokens = 2048);

    private static List<int[]> Run(DecoderModel model, CpuBackend backend, Setup s, IReadOnlyList<int[]> prompts, SamplingParams p,
        out SchedulerStats stats)
    {
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions
            {
                NumGpuBlocks = s.GpuBlocks, BlockSizeTokens = s.BlockSize, NumCpuBlocks = s.CpuBlocks,
                EnablePrefixCaching = s.PrefixCaching,
            },
            Scheduler = new SchedulerOptions { PreemptionMode = s.Preemption, MaxNumBatchedTokens = s.MaxBatchedTokens, EosTokenId = 2 },
        };
        using var executor = new ModelExecutor(model, backend, s.GpuBlocks, s.CpuBlocks, s.BlockSize, [2]);
        var engine = new LlmEngine(options, executor);
        var outputs = engine.Generate(prompts, p);
        stats = engine.GetSchedulerStats();
        return outputs.SelectMany(o => o.Outputs.Select(c => c.TokenIds.ToArray())).ToList();
    }

    private static List<int[]> Prompts(int count)
    {
        var rng = new Random(42);
        var shared = Enumerable.Range(0, 20).Select(_ => rng.Next(3, 512)).ToArray();   // a common prefix for caching
        return Enumerable.Range(0, count).Select(i =>
            (i % 2 == 0 ? shared : []).Concat(Enumerable.Range(0, 1 + i % 13).Select(_ => rng.Next(3, 512))).ToArray()).ToList();
    }

    [Fact]
    public void GreedyGenerationThroughTheEngineEqualsHuggingFace()
    {
        using var backend = new CpuBackend(2);
        using var model = HfParityTests.LoadModel(Folder, backend);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference.json")));
        var prompts = doc.RootElement.GetProperty("prompts").EnumerateArray().Select(a => a.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToList();
        var greedy = doc.RootElement.GetProperty("greedy").EnumerateArray().Select(g => g.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToList();
        var outputs = Run(model, backend, new Setup(BlockSize: 4), prompts, new SamplingParams { Temperature = 0, MaxTokens = 16, IgnoreEos = true }, out _);
        for (int i = 0; i < prompts.Count; i++)
            Assert.Equal(greedy[i], outputs[i]);   // the fixture's smallest margin is 3e-3: no near tie to stop at
    }

    [Fact]
    public void TokensAreIdenticalAcrossBlockSizesCachingPreemptionAndBatching()
    {
        using var backend = new CpuBackend(2);
        using var model = HfParityTests.LoadModel(Folder, backend);
        var prompts = Prompts(64);
        var sampling = new SamplingParams { Temperature = 0.8f, TopP = 0.9f, Seed = 1234, MaxTokens = 12, IgnoreEos = true };
        var reference = Run(model, backend, new Setup(), prompts, sampling, out _);

        foreach (var setup in new[]
        {
            new Setup(BlockSize: 1, GpuBlocks: 4096),
            new Setup(BlockSize: 64, GpuBlocks: 64),
            new Setup(PrefixCaching: false),
            new Setup(BlockSize: 4, GpuBlocks: 40, MaxBatchedTokens: 64),                       // forced recompute preemption
            new Setup(BlockSize: 4, GpuBlocks: 40, Preemption: PreemptionMode.Swap, CpuBlocks: 400, MaxBatchedTokens: 64),
        })
        {
            var outputs = Run(model, backend, setup, prompts, sampling, out var stats);
            for (int i = 0; i < prompts.Count; i++)
                Assert.True(reference[i].AsSpan().SequenceEqual(outputs[i]), $"{setup}: request {i} differs");
            if (setup.GpuBlocks == 40)
                Assert.True(stats.Preemptions > 0, $"{setup}: expected preemptions, saw none");
        }
        // Alone (one request per engine) versus in the batch of 64.
        foreach (int i in new[] { 0, 5, 63 })
            Assert.Equal(reference[i], Run(model, backend, new Setup(), [prompts[i]], sampling, out _)[0]);
    }
}
