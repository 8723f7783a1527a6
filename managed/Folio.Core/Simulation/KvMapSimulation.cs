using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Simulation;

/// <summary>
/// <c>folio simulate --kv-map</c>: the workload's requests through the real engine (scheduler, KV cache manager,
/// swap preemption) over the fake executor, queued all at once, and the <see cref="KvMap"/> of the busiest step
/// that shows every state (swapped, free and shared blocks, then the most blocks in use) — the picture the server's /kv page
/// draws live. Every prompt begins with one shared system prompt (prefix-cache hits: blocks shared by several
/// requests, and cached blocks left free when they end); every fourth request samples n = 2 (forked blocks with a
/// reference count of 2 until copy-on-write parts them).
/// </summary>
public static class KvMapSimulation
{
    /// <summary>What the picture shows.</summary>
    public sealed record Result(KvMap Map, long Step, long TotalSteps, int Requests, int Running, int Waiting, int Swapped, long Preemptions);

    public const int SharedPrefixTokens = 48, SharedEvery = 4;

    public static Result Run(IReadOnlyList<SimRequest> requests, int numGpuBlocks, int numCpuBlocks, int blockSizeTokens, int seed)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0) throw new ArgumentException("no requests", nameof(requests));
        var kvOptions = new KvCacheOptions { NumGpuBlocks = numGpuBlocks, NumCpuBlocks = numCpuBlocks, BlockSizeTokens = blockSizeTokens };
        var engine = new LlmEngine(new EngineOptions
        {
            KvCache = kvOptions,
            Scheduler = new SchedulerOptions
            {
                MaxNumSeqs = 256, MaxNumBatchedTokens = 4096, EosTokenId = -1,
                PreemptionMode = numCpuBlocks > 0 ? PreemptionMode.Swap : PreemptionMode.Recompute,
            },
        }, new FakeExecutor(new FakeExecutorOptions
        {
            NumGpuBlocks = numGpuBlocks, NumCpuBlocks = numCpuBlocks, BlockSizeTokens = blockSizeTokens, VocabSize = 32000, SimulateKv = false,
        }));
        var random = new Random(seed);
        var system = new int[SharedPrefixTokens];
        for (int i = 0; i < system.Length; i++) system[i] = random.Next(32000);
        for (int r = 0; r < requests.Count; r++)
        {
            var prompt = new int[SharedPrefixTokens + requests[r].InputTokens];
            system.CopyTo(prompt, 0);
            for (int i = SharedPrefixTokens; i < prompt.Length; i++) prompt[i] = random.Next(32000);
            engine.AddRequest(prompt, new SamplingParams { MaxTokens = requests[r].OutputTokens, N = r % SharedEvery == SharedEvery - 1 ? 2 : 1, Seed = r });
        }
        Result? best = null;
        (int Kinds, int Used) bestScore = (-1, -1);
        while (engine.HasUnfinished)
        {
            engine.Step();
            var kv = engine.GetKvStats();
            // The most telling step: swapped blocks, some free ones (≥ 5%: cached ones among them) and shared ones
            // all present if any step has them, then the most blocks in use.
            int kinds = (kv.CpuUsedBlocks > 0 ? 1 : 0) + (kv.FreeBlocks * 20 >= kv.TotalBlocks ? 1 : 0) + (kv.SharedBlocks > 0 ? 1 : 0);
            var score = (kinds, kv.UsedBlocks + kv.CpuUsedBlocks);
            if (score.CompareTo(bestScore) > 0)
            {
                bestScore = score;
                var s = engine.GetSchedulerStats();
                best = new Result(engine.GetKvMap(), s.Steps, 0, requests.Count, s.NumRunning, s.NumWaiting, s.NumSwapped, s.Preemptions);
            }
        }
        engine.CheckInvariants();
        return best! with { TotalSteps = engine.GetSchedulerStats().Steps };
    }
}
