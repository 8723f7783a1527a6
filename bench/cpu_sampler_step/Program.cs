// Issue 16: times the CPU backend's sampler (HostSampler.Sample) on one step of 32 logits rows of random values
// (vocabulary 32,000; the bench's rows: temperature 1, no filters), on THREADS compute threads: the median of 15
// repetitions of 100 steps after 200 warm-up steps. The first row's token is printed so builds can be compared.
using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Cpu;

const int Vocab = 32000, Rows = 32;
int threads = int.Parse(args[0]);
using var backend = new CpuBackend(threads);
using var sampler = backend.CreateSampler(new SamplerSettings([2], DefaultSeed: 1, ValidTokenCount: Vocab));
var core = new EngineCore(new SchedulerOptions { EosTokenId = 2 }, new KvCacheManager(new KvCacheOptions { NumGpuBlocks = 1024, BlockSizeTokens = 16 }));
for (int r = 0; r < Rows; r++)
    core.AddRequest([1000 + r, 5, 6], new SamplingParams { Temperature = 1, TopP = 1, MaxTokens = 64 });
var plan = core.BeginStep();
var rng = new Random(1);
var host = new float[Rows * Vocab];
for (int i = 0; i < host.Length; i++) host[i] = rng.NextSingle() * 8;
using var logits = backend.Upload(host, Rows, Vocab);
var outputs = new StepOutputs();
var step = new Unbound();
for (int i = 0; i < 200; i++) sampler.Sample(step, logits, plan, outputs);
var times = new List<double>();
for (int rep = 0; rep < 15; rep++)
{
    long t0 = Stopwatch.GetTimestamp();
    for (int i = 0; i < 100; i++) sampler.Sample(step, logits, plan, outputs);
    times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds / 100);
}
times.Sort();
Console.WriteLine($"threads {threads}: {times[7]:F3} ms per 32-row step (min {times[0]:F3}, max {times[^1]:F3}); token[0]={outputs.SamplesOf(0)[0].TokenId}");
sealed class Unbound : StepContext;
