using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cpu.Tests;

/// <summary>
/// Sampling behind the backend gives exactly what <see cref="LogitsSampler"/>'s row-level API gives: the CPU
/// backend's sampler (reading the logits in place) and the generic <see cref="HostSampler"/> (downloading them)
/// both equal a row-by-row reference written here from the documented rules, on steps that hold a completing
/// n-sample prompt, beam candidates, suppressed stop ids with penalties and top logprobs, and greedy rows; and
/// a warm sampler allocates nothing.
/// </summary>
[Collection(nameof(AllocationCollection))]
public sealed class BackendSamplerTests
{
    private static readonly SamplerSettings Settings = new([2, 3], DefaultSeed: 77, ValidTokenCount: 500);

    [Fact]
    public void BackendSamplersEqualTheRowLevelReference()
    {
        using var backend = new CpuBackend(1);
        using var model = HfParityTests.LoadModel(Fixtures.Hf("llama3_rope"), backend);
        var core = new EngineCore(new SchedulerOptions { EosTokenId = 2 }, new KvCacheManager(new KvCacheOptions { NumGpuBlocks = 128, BlockSizeTokens = 4 }));
        using var cache = model.CreateKvCache(128, 4);
        var rng = new Random(5);
        int[] Prompt(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(4, 500)).ToArray();
        core.AddRequest(Prompt(6), new SamplingParams { N = 3, Temperature = 0.9f, TopK = 50, Logprobs = 3, Seed = 9, MaxTokens = 8 });
        core.AddRequest(Prompt(9), new SamplingParams { BeamWidth = 3, MaxTokens = 8 });
        core.AddRequest(Prompt(5), new SamplingParams
        {
            Temperature = 0.7f, TopP = 0.8f, MinTokens = 6, StopTokenIds = [7, 9], RepetitionPenalty = 1.3f, FrequencyPenalty = 0.2f,
            Logprobs = 2, MaxTokens = 8,
        });
        core.AddRequest(Prompt(7), new SamplingParams { Temperature = 0, MaxTokens = 8 });
        using var onBackend = backend.CreateSampler(Settings);
        using var downloading = new HostSampler(backend, Settings);
        var fromBackend = new StepOutputs();
        var fromDownload = new StepOutputs();
        var input = new ModelInput
        {
            TokenIds = [], Positions = [], SlotMapping = [], LogitRows = [],
            Attention = new AttentionBatch { QueryStarts = [0], ContextLengths = [], BlockTables = [], BlockTableStride = 0 },
        };
        bool sawForking = false, sawBeams = false, sawSuppressed = false;
        for (int step = 0; step < 6; step++)
        {
            var plan = core.BeginStep();
            plan.Describe(input);
            var context = backend.BeginStep(input, cache);
            var logits = model.Forward(context);
            var host = new float[logits.Rows * logits.Cols];
            backend.Download(logits, host);
            onBackend.Sample(context, logits, plan, fromBackend);
            downloading.Sample(context, logits, plan, fromDownload);
            // Sampling the same rows again allocates nothing (logprobs, penalties, beams, suppression included).
            long before = GC.GetAllocatedBytesForCurrentThread();
            onBackend.Sample(context, logits, plan, fromBackend);
            downloading.Sample(context, logits, plan, fromDownload);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            var expected = Reference(plan, host, logits.Cols);
            Assert.Equal(expected, Entries(fromBackend));
            Assert.Equal(expected, Entries(fromDownload));
            sawForking |= plan.NumSamples.Contains(3);
            sawBeams |= plan.NumBeamCandidates.ToArray().Any(c => c > 0);
            sawSuppressed |= plan.SuppressStop.Contains(1);
            core.CompleteStep(fromBackend);
        }
        Assert.True(sawForking && sawBeams && sawSuppressed, "the steps did not cover every kind of row");
    }

    /// <summary>What each plan entry gets, from LogitsSampler's row-level API: a logits row's NumBeamCandidates
    /// most likely tokens, or NumSamples draws (sample i of a completing n-sample prompt from stream i, else the
    /// sequence's own stream), EOS and stop ids suppressed while min_tokens is unmet.</summary>
    private static List<string> Reference(StepPlan plan, float[] logits, int vocab)
    {
        var sampler = new LogitsSampler();
        var entries = Enumerable.Range(0, plan.NumSequences).Select(_ => "").ToList();
        var top = new TokenLogprob[64];
        for (int l = 0; l < plan.NumLogitsRows; l++)
        {
            var row = plan.SamplingOf(l);
            var p = row.Params;
            int[] suppressed = plan.SuppressStop[l] != 0 ? [.. Settings.EosTokenIds, .. p.StopTokenIds] : [];
            sampler.Prepare(logits.AsSpan(l * vocab, vocab), p, row.PromptTokens, row.GeneratedTokens, suppressed, Settings.ValidTokenCount);
            var text = new List<string>();
            if (plan.NumBeamCandidates[l] > 0)
            {
                int n = sampler.TopTokens(plan.NumBeamCandidates[l], top);
                text.AddRange(top.Take(n).Select(t => $"{t.TokenId}:{t.LogProb}[]"));
            }
            else
            {
                int samples = plan.NumSamples[l];
                for (int s = 0; s < samples; s++)
                {
                    int token = sampler.Sample(p, SampleStream.Uniform(row.Seed ?? Settings.DefaultSeed, samples > 1 ? s : row.StreamIndex, row.NumTokens));
                    int k = sampler.TopTokens(p.Logprobs ?? 0, top);
                    text.Add($"{token}:{sampler.LogProb(token)}[{string.Join(",", top.Take(k).Select(t => $"{t.TokenId}:{t.LogProb}"))}]");
                }
            }
            entries[plan.LogitsSequenceRow[l]] = string.Join(" ", text);
        }
        return entries;
    }

    private static List<string> Entries(StepOutputs outputs) =>
        Enumerable.Range(0, outputs.NumEntries).Select(e => string.Join(" ", outputs.SamplesOf(e).ToArray().Select(s =>
            $"{s.TokenId}:{s.LogProb}[{string.Join(",", outputs.TopLogprobsOf(s).ToArray().Select(t => $"{t.TokenId}:{t.LogProb}"))}]"))).ToList();

    [Fact]
    public void TheCpuBackendRefusesCachesItHasNoKernelsForAndStepsItDidNotBegin()
    {
        using var backend = new CpuBackend(1);
        using var other = new CpuBackend(1);
        Assert.StartsWith("the CPU backend keeps the KV cache in F32 or BF16, not F16",
            Assert.Throws<ArgumentException>(() => backend.AllocateKvCache(1, 4, 4, 1, 8, DType.F16)).Message, StringComparison.Ordinal);
        Assert.StartsWith("the CPU backend keeps the KV cache in the Nhd layout, not Hnd",
            Assert.Throws<ArgumentException>(() => backend.AllocateKvCache(1, 4, 4, 1, 8, DType.F32, KvCacheLayout.Hnd)).Message, StringComparison.Ordinal);
        using var cache = other.AllocateKvCache(1, 4, 4, 1, 8);
        var input = new ModelInput
        {
            TokenIds = [5], Positions = [0], SlotMapping = [4], LogitRows = [0],
            Attention = new AttentionBatch { QueryStarts = [0, 1], ContextLengths = [1], BlockTables = [1], BlockTableStride = 1 },
        };
        var foreign = other.BeginStep(input, cache);
        using var qkv = backend.Allocate(1, 24);
        Assert.StartsWith("the step context was not begun by this backend",
            Assert.Throws<ArgumentException>(() => backend.WriteKv(qkv, new AttentionShape(1, 1, 8), foreign, 0)).Message, StringComparison.Ordinal);
        input.SlotMapping[0] = 16;
        Assert.StartsWith("ModelInput: slot 16 outside the cache (16 slots)",
            Assert.Throws<ArgumentException>(() => backend.BeginStep(input, cache)).Message, StringComparison.Ordinal);
        Assert.StartsWith("MoveBlocks: pairs must hold (src, dst) pairs",
            Assert.Throws<ArgumentException>(() => backend.CopyBlocks(cache, [1, 2, 3])).Message, StringComparison.Ordinal);
    }
}
