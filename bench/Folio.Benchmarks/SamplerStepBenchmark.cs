using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Cpu;

namespace Folio.Benchmarks;

/// <summary>
/// <c>sampler-step [THREADS] [ROWS] [ROUNDS]</c>: the CPU backend's sampler on one step of ROWS rows of 32,000 logits
/// at temperature 1, seeded (the bench's <c>--requests 32</c> decode rows), rows spread over THREADS threads as in the
/// engine; prints the median and range of ms a step over ROUNDS rounds of 20 steps. Public API only, so the same
/// build can run against another build's Folio.Core.dll (an A/B of the sampler alone). Run it with
/// <c>DOTNET_TieredCompilation=0</c>: the CLI is built with tiered compilation off, and library code such as
/// <c>TensorPrimitives</c> runs at another speed under tiering.
/// </summary>
internal static class SamplerStepBenchmark
{
    private const int Vocab = 32_000;

    public static void Run(int threads, int rows, int rounds)
    {
        Console.WriteLine($"sampler-step, {threads} thread(s), {rows} rows × {Vocab}; {DateTime.UtcNow:u}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        using var backend = new CpuBackend(threads);
        using var sampler = backend.CreateSampler(new SamplerSettings([2], DefaultSeed: 77, ValidTokenCount: Vocab));
        var core = new EngineCore(new SchedulerOptions { EosTokenId = 2 },
            new KvCacheManager(new KvCacheOptions { NumGpuBlocks = 1024, BlockSizeTokens = 16 }));
        for (int r = 0; r < rows; r++)
            core.AddRequest([1000 + r, 5, 6, 7], new SamplingParams { Temperature = 1f, TopP = 1f, Seed = 100 + r, MaxTokens = 32, IgnoreEos = true });
        var plan = core.BeginStep();
        StepMasks.Start(plan).GetAwaiter().GetResult();
        // A model's row: most logits in a few units' range, a few far above.
        var rng = new Random(5);
        var host = new float[plan.NumLogitsRows * Vocab];
        for (int i = 0; i < host.Length; i++)
            host[i] = rng.NextSingle() * 6;
        for (int i = 0; i < 20 * plan.NumLogitsRows; i++)
            host[rng.Next(host.Length)] += 6;
        using var logits = backend.Upload(host, plan.NumLogitsRows, Vocab);
        var outputs = new StepOutputs();
        var step = new UnboundStep();
        var ms = new List<double>();
        for (int round = -1; round < rounds; round++)
        {
            long t = Stopwatch.GetTimestamp();
            for (int s = 0; s < 20; s++)
                sampler.Sample(step, logits, plan, outputs);
            if (round >= 0)   // round −1 compiles
                ms.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds / 20);
        }
        ms.Sort();
        Console.WriteLine($"{plan.NumLogitsRows} rows: median {ms[ms.Count / 2]:F3} ms a step (range {ms[0]:F3}–{ms[^1]:F3}); first token {outputs.SamplesOf(0)[0].TokenId}");
    }

    private sealed class UnboundStep : StepContext;
}
