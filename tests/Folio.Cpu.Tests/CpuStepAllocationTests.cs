using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cpu.Tests;

/// <summary>
/// The real model's step allocates nothing once running: the activations live in the model's workspace (sized
/// for the largest step, resized per step), the executor points the model's input at the step plan's arrays,
/// the kernels' work items are static lambdas over state structs, the sampler reuses its buffers. With one
/// compute thread every op runs inline; with more, each parallel op allocates one small job object (not asserted here).
/// </summary>
[Collection(nameof(AllocationCollection))]
public sealed class CpuStepAllocationTests
{
    [Fact]
    public void DecodeStepsOfTheRealModelAllocateNothing() =>
        AssertDecodeAllocatesNothing(i => new SamplingParams { Temperature = 0.8f, TopP = 0.9f, TopK = 40, MaxTokens = 60, IgnoreEos = true, Seed = i });

    /// <summary>The sampling path's other branches: EOS and request stop ids suppressed while min_tokens is unmet
    /// (a reused suppression buffer, not a new array per row), and min-p (a full sort of the vocabulary, with one
    /// reused comparison delegate). Logprobs and penalties: <see cref="BackendSamplerTests"/> (the sequence keeps
    /// each token's logprobs, and the penalty counts grow with the sequence, so an engine step cannot show them).</summary>
    [Fact]
    public void SamplingWithSuppressedStopIdsAndMinPAllocatesNothing() =>
        AssertDecodeAllocatesNothing(i => new SamplingParams
        {
            Temperature = 0.9f, MinP = 0.01f, MaxTokens = 60, MinTokens = 60, StopTokenIds = [7, 9 + i], Seed = i,
        });

    private static void AssertDecodeAllocatesNothing(Func<int, SamplingParams> sampling)
    {
        using var backend = new CpuBackend(1);
        using var model = HfParityTests.LoadModel(Fixtures.Hf("llama3_rope"), backend);
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = 256, BlockSizeTokens = 4 },
            Scheduler = new SchedulerOptions { MaxNumSeqs = 8, EosTokenId = 2 },
        };
        using var executor = new ModelExecutor(model, backend, 256, 0, 4, [2]);
        var engine = new LlmEngine(options, executor);
        var rng = new Random(3);
        for (int i = 0; i < 8; i++)
        {
            var prompt = Enumerable.Range(0, 5 + i).Select(_ => rng.Next(3, 500)).ToArray();
            engine.AddRequest(prompt, sampling(i));
        }
        for (int step = 0; step < 10; step++)   // prefill, then the workspace and every buffer have grown
            engine.Step();
        // Two windows of 20 decode steps. The per-thread allocation counter can be off when a collection runs
        // between its two readings (dotnet/coreclr#10207; this assembly's other tests run in parallel and
        // collect), so a window that saw a collection counts only when no window ran without one. A real
        // allocation in the step shows in every window.
        var windows = new List<(long Allocated, bool Collected)>();
        for (int w = 0; w < 2; w++)
        {
            int collections = GC.CollectionCount(0);
            long before = GC.GetAllocatedBytesForCurrentThread();
            int tokens = 0;
            for (int step = 0; step < 20; step++)
            {
                var updates = engine.Step();
                for (int u = 0; u < updates.Count; u++)
                    tokens += updates[u].NumNewTokens;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(8 * 20, tokens);   // every step decoded all eight sequences
            windows.Add((allocated, GC.CollectionCount(0) != collections));
        }
        var clean = windows.Where(w => !w.Collected).ToList();
        foreach (var (allocated, _) in clean.Count > 0 ? clean : windows)
            Assert.Equal(0, allocated);
    }
}
