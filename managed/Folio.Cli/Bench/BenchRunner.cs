using System.Diagnostics;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Core.Simulation;

namespace Folio.Cli.Bench;

/// <summary>
/// Benchmark B4: drives an <see cref="LlmEngine"/> with a closed-loop workload (requests are fed so that the
/// engine stays full) and measures the engine step in the steady state: every step in which max_num_seqs
/// sequences are reserved and more requests wait. The workload (prompts, lengths) is generated before timing.
/// </summary>
public static class BenchRunner
{
    private const int VocabSize = 32000;
    private const int EosTokenId = 2;
    private const int JitWarmupSteps = 50;
    private const int MaxPromptTokens = 512;
    private const int MaxOutputTokens = 1024;

    public static BenchResult Run(BenchOptions o, Action<double>? progress = null)
    {
        Validate(o);
        int width = o.Width;
        int requests = o.Requests > 0 ? o.Requests : Math.Max(100, 60 * o.MaxNumSeqs / width);
        var rng = new Random(o.Seed);
        var prompts = new int[requests][];
        var shared = new int[o.SharedPrefixLen];
        for (int t = 0; t < shared.Length; t++)
            shared[t] = rng.Next(3, VocabSize);
        var parameters = new SamplingParams[requests];
        // The simulator's Alpaca-like lengths (docs/SIMULATOR.md), scaled to the requested means.
        var lengths = new AlpacaLengthModel(o.PromptLenMean, o.OutputLenMean, MaxPromptTokens, MaxOutputTokens);
        for (int i = 0; i < requests; i++)
        {
            var (len, maxTokens) = lengths.Sample(rng);
            var prompt = new int[shared.Length + len];
            shared.CopyTo(prompt, 0);
            for (int t = shared.Length; t < prompt.Length; t++)
                prompt[t] = rng.Next(3, VocabSize);
            prompts[i] = prompt;
            parameters[i] = new SamplingParams
            {
                N = o.BeamWidth > 0 ? 1 : o.N, BeamWidth = o.BeamWidth, MaxTokens = maxTokens, IgnoreEos = true, Seed = i,
            };
        }
        int gpuBlocks = o.GpuBlocks > 0
            ? o.GpuBlocks
            : o.MaxNumSeqs * Math.Max(4, 2 * (o.PromptLenMean + o.OutputLenMean) / o.BlockSizeTokens) + o.SharedPrefixLen / o.BlockSizeTokens + 64;
        var engineOptions = new EngineOptions
        {
            KvCache = new KvCacheOptions
            {
                NumGpuBlocks = gpuBlocks, NumCpuBlocks = o.CpuBlocks, BlockSizeTokens = o.BlockSizeTokens, EnablePrefixCaching = o.PrefixCaching,
            },
            Scheduler = new SchedulerOptions
            {
                MaxNumSeqs = o.MaxNumSeqs, MaxNumBatchedTokens = o.MaxNumBatchedTokens, EosTokenId = EosTokenId,
            },
        };
        var executor = new InStepMemorySampler(ExecutorFactory.Create(o.Executor, engineOptions, VocabSize, EosTokenId, o.Seed, o.Verify));
        var engine = new LlmEngine(engineOptions, executor);
        var kv = engine.KvCache;
        executor.Attach(kv);

        int next = 0, finished = 0;
        long inflightSeqs = 0, tokens = 0, totalSteps = 0, steadySteps = 0, windowSteps = 0;
        long steadyTicks = 0;
        double runningSum = 0, usedSum = 0, logicalSum = 0;
        var stepTicks = new List<long>(4096);
        TimeSpan cpuStart = default, cpuEnd = default;
        long windowStartTicks = 0, windowEndTicks = 0;
        bool inWindow = false;
        StepTimings timingsStart = default, timingsEnd = default;
        long samplerTicksStart = 0, samplerTicksEnd = 0;
        long allocStart = 0, allocEnd = 0, addedInWindow = 0, stepAllocBytes = 0;
        // Memory is averaged only once the initial fill has left: until then every sequence is young (few
        // generated tokens), which under-counts blocks and over-weights the shared prompt blocks.
        var initialFill = new HashSet<Request>(ReferenceEqualityComparer.Instance);
        long memorySteps = 0;
        var wall = Stopwatch.StartNew();
        while (next < requests || engine.HasUnfinished)
        {
            // Keep a queue behind the running sequences so that the engine stays full.
            while (next < requests && inflightSeqs < o.MaxNumSeqs + o.MaxNumSeqs / 4 + width)
            {
                var r = engine.AddRequest(prompts[next], parameters[next]);
                next++;
                if (r.IsFinished)
                    throw new UsageException($"request rejected: {r.RejectReason} (raise --gpu-blocks).");
                inflightSeqs += width;
                if (inWindow)
                    addedInWindow++;
                if (totalSteps == 0)
                    initialFill.Add(r);
            }
            // Steady: past JIT warm-up, requests still arriving and some waiting, so the engine is as full as
            // max_num_seqs lets it be (between steps a few slots are briefly free: finished requests leave).
            var stats = engine.GetSchedulerStats();
            bool steady = totalSteps >= JitWarmupSteps && next < requests && stats.NumWaiting > 0;
            if (steady && !inWindow)
            {
                inWindow = true;
                timingsStart = engine.GetStepTimings();
                samplerTicksStart = executor.OwnTicks;
                allocStart = GC.GetAllocatedBytesForCurrentThread();
                cpuStart = Environment.CpuUsage.TotalTime;
                windowStartTicks = Stopwatch.GetTimestamp();
            }

            // Memory is sampled on the same steps both between steps (after this one) and while it computes.
            bool measureMemory = steady && initialFill.Count == 0;
            executor.Enabled = measureMemory;
            long samplerTicks = executor.OwnTicks;
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            long t0 = Stopwatch.GetTimestamp();
            var updates = engine.Step();
            long dt = Stopwatch.GetTimestamp() - t0 - (executor.OwnTicks - samplerTicks);
            long stepAlloc = GC.GetAllocatedBytesForCurrentThread() - a0;
            totalSteps++;

            int scheduled = 0;
            for (int i = 0; i < updates.Count; i++)
            {
                var u = updates[i];
                if (u.RequestFinished)
                {
                    finished++;
                    initialFill.Remove(u.Request);
                    inflightSeqs -= width;
                }
                else
                {
                    tokens += u.NumNewTokens;
                    // A beam search reports its finished beams (all their tokens) at its end, not per step.
                    if (o.BeamWidth == 0)
                        scheduled++;
                }
            }
            if (inWindow && next < requests)
            {
                windowSteps++;
                cpuEnd = Environment.CpuUsage.TotalTime;
                windowEndTicks = Stopwatch.GetTimestamp();
                timingsEnd = engine.GetStepTimings();
                samplerTicksEnd = executor.OwnTicks;
                allocEnd = GC.GetAllocatedBytesForCurrentThread();
            }
            if (steady)
            {
                steadySteps++;
                stepAllocBytes += stepAlloc;
                steadyTicks += dt;
                stepTicks.Add(dt);
                if (measureMemory)
                {
                    memorySteps++;
                    runningSum += engine.GetSchedulerStats().RunningSequences;
                    usedSum += kv.GpuPool.NumUsedBlocks;
                    logicalSum += InStepMemorySampler.LogicalGpuBlocks(kv);
                }
            }
            if (progress is not null && (totalSteps & 63) == 0)
                progress((double)finished / requests);
        }
        wall.Stop();
        progress?.Invoke(1.0);

        var final = engine.GetSchedulerStats();
        var kvStats = engine.GetKvStats();
        stepTicks.Sort();
        double tickUs = 1e6 / Stopwatch.Frequency;
        double steps = Math.Max(1, steadySteps);
        double meanUs = steadyTicks * tickUs / steps;
        double windowS = (windowEndTicks - windowStartTicks) / (double)Stopwatch.Frequency;
        double memSteps = Math.Max(1, memorySteps);
        double logical = logicalSum / memSteps, physical = usedSum / memSteps;
        double samples = Math.Max(1, executor.Samples);
        double inStepLogical = executor.LogicalSum / samples, inStepPhysical = executor.PhysicalSum / samples;
        var phases = timingsEnd.Since(timingsStart);
        double phaseSteps = Math.Max(1, phases.Steps);
        bool measured = steadySteps > 0 && windowSteps > 0, memoryMeasured = memorySteps > 0;
        double? Steady(double value) => measured ? value : null;
        double? Memory(double value) => memoryMeasured ? value : null;
        return new BenchResult
        {
            Executor = o.Executor,
            Verify = o.Verify,
            MaxNumSeqs = o.MaxNumSeqs,
            N = o.N,
            BeamWidth = o.BeamWidth,
            Requests = requests,
            GpuBlocks = gpuBlocks,
            BlockSizeTokens = o.BlockSizeTokens,
            PrefixCaching = o.PrefixCaching,
            SteadySteps = steadySteps,
            SteadyStateMeasured = measured,
            MemoryMeasured = memoryMeasured,
            StepsPerS = Steady(windowS > 0 ? windowSteps / windowS : 0),
            UsPerStep = Steady(meanUs),
            UsPerStepP50 = Steady(stepTicks.Count > 0 ? stepTicks[stepTicks.Count / 2] * tickUs : 0),
            ScheduleUsPerStep = Steady(StepTimings.TicksToMicroseconds(phases.ScheduleTicks) / phaseSteps),
            ExecuteUsPerStep = Steady(StepTimings.TicksToMicroseconds(phases.ExecuteTicks - (samplerTicksEnd - samplerTicksStart)) / phaseSteps),
            PostprocessUsPerStep = Steady(StepTimings.TicksToMicroseconds(phases.PostprocessTicks) / phaseSteps),
            AllocBytesPerStep = Steady((double)(allocEnd - allocStart) / Math.Max(1, windowSteps)),
            StepAllocBytesPerStep = Steady(steadySteps > 0 ? (double)stepAllocBytes / steadySteps : 0),
            RequestsAddedPerStep = Steady((double)addedInWindow / Math.Max(1, windowSteps)),
            CpuUsPerStep = Steady((cpuEnd - cpuStart).TotalMicroseconds / Math.Max(1, windowSteps)),
            RunningSeqs = Memory(runningSum / memSteps),
            MemorySteps = memorySteps,
            Preemptions = final.Preemptions,
            RecomputePreemptions = final.RecomputePreemptions,
            SwapPreemptions = final.SwapPreemptions,
            KvUtilizationPct = Memory(100.0 * inStepPhysical / gpuBlocks),
            LogicalBlocks = Memory(inStepLogical),
            PhysicalBlocks = Memory(inStepPhysical),
            SharingSavedPct = Memory(inStepLogical > 0 ? 100.0 * (1 - inStepPhysical / inStepLogical) : 0),
            LogicalBlocksBetweenSteps = Memory(logical),
            PhysicalBlocksBetweenSteps = Memory(physical),
            SharingSavedBetweenStepsPct = Memory(logical > 0 ? 100.0 * (1 - physical / logical) : 0),
            PrefixHitRatePct = 100.0 * kvStats.PrefixHitRate,
            TotalSteps = totalSteps,
            TokensGenerated = tokens,
            WallS = wall.Elapsed.TotalSeconds,
        };
    }

    private static void Validate(BenchOptions o)
    {
        static void Need(bool ok, string message)
        {
            if (!ok)
                throw new UsageException(message);
        }
        Need(o.MaxNumSeqs >= 1, $"--max-num-seqs must be at least 1, got {o.MaxNumSeqs}.");
        Need(o.MaxNumBatchedTokens >= 1, $"--max-num-batched-tokens must be at least 1, got {o.MaxNumBatchedTokens}.");
        Need(o.BlockSizeTokens >= 1, $"--block-size must be at least 1, got {o.BlockSizeTokens}.");
        Need(o.GpuBlocks >= 0, $"--gpu-blocks must be >= 0 (0 = sized for the workload), got {o.GpuBlocks}.");
        Need(o.CpuBlocks >= 0, $"--cpu-blocks must be >= 0, got {o.CpuBlocks}.");
        Need(o.Requests >= 0, $"--requests must be >= 0 (0 = 60 × max-num-seqs / width), got {o.Requests}.");
        Need(o.N >= 1, $"--n must be at least 1, got {o.N}.");
        Need(o.BeamWidth >= 0, $"--beam-width must be >= 0, got {o.BeamWidth}.");
        Need(o.BeamWidth == 0 || o.N == 1, "--n and --beam-width cannot both be set (beam search returns beam-width outputs).");
        Need(o.Width <= o.MaxNumSeqs, $"a request runs {o.Width} sequences; --max-num-seqs ({o.MaxNumSeqs}) must be at least that.");
        Need(o.PromptLenMean >= 1, $"--prompt-len must be at least 1, got {o.PromptLenMean}.");
        Need(o.OutputLenMean >= 1, $"--output-len must be at least 1, got {o.OutputLenMean}.");
        Need(o.SharedPrefixLen >= 0, $"--shared-prefix must be >= 0, got {o.SharedPrefixLen}.");
    }
}
