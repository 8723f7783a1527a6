using Folio.Core.Compute;
using Folio.Core.KvCache;
using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cpu.Tests;

/// <summary>
/// The CPU backend samples a step's rows on both of its threads without changing any row: 32 requests of every
/// kind (the bench's seeded temperature-1 rows, logprobs, n = 2, beams, top-k/top-p, greedy with a penalty, allowed
/// ids with logit bias, structured outputs) give the same tokens, log-probabilities, top logprobs and beam
/// candidates step after step whether sampled as one batch or each request alone, on one thread or two. Each
/// row's logits are a function of its request and its tokens so far, not of its place in the batch. The rows'
/// structured-output constraints are never called while rows are being sampled (sampling reads masks computed
/// before it): a constraint shared by no two threads stays so.
/// </summary>
public sealed class ParallelSamplingTests
{
    private const int Vocab = 32_000;
    private const int Eos = 2;
    private const int Requests = 32;
    private static readonly SamplerSettings Settings = new([Eos], DefaultSeed: 77, ValidTokenCount: Vocab - 8);

    private static SamplingParams ParamsOf(int r) => (r % 8) switch
    {
        0 => new SamplingParams { Temperature = 1, Seed = 100 + r, MaxTokens = 5 },
        1 => new SamplingParams { Temperature = 0.8f, Seed = 100 + r, Logprobs = 3, MaxTokens = 5 },
        2 => new SamplingParams { N = 2, Temperature = 1, Seed = 100 + r, MaxTokens = 5 },
        3 => new SamplingParams { BeamWidth = 2, MaxTokens = 5 },
        4 => new SamplingParams { Temperature = 0.9f, TopK = 40, TopP = 0.9f, MaxTokens = 5 },
        5 => new SamplingParams { Temperature = 0, RepetitionPenalty = 1.2f, Logprobs = 2, MaxTokens = 5 },
        6 => new SamplingParams
        {
            Temperature = 1, Seed = 100 + r, AllowedTokenIds = [.. Enumerable.Range(300, 200)],
            LogitBias = new Dictionary<int, float> { [310] = 5f, [320] = -3f }, MaxTokens = 5,
        },
        _ => new SamplingParams { Temperature = 1, Seed = 100 + r, StructuredOutputs = new StructuredOutputs { Regex = "abc" }, MaxTokens = 5 },
    };

    [Fact]
    public void RowsSampleTheSameAloneOrInABatchOnOneThreadOrTwo()
    {
        var batchOne = Run(threads: 1, alone: false);
        var batchTwo = Run(threads: 2, alone: false);
        var aloneOne = Run(threads: 1, alone: true);
        var aloneTwo = Run(threads: 2, alone: true);
        Assert.Equal(Requests, batchOne.Count);
        Assert.All(batchOne, kv => Assert.True(kv.Value.Count >= 4, $"request {kv.Key} sampled {kv.Value.Count} steps"));
        Assert.Equal(batchOne, batchTwo);
        Assert.Equal(batchOne, aloneOne);
        Assert.Equal(batchOne, aloneTwo);
        // The kinds of row that must agree were all there: draws with top logprobs, forks, beam candidates.
        Assert.Contains(batchOne[1], s => s.Contains(",", StringComparison.Ordinal));
        Assert.Contains(batchOne[3], s => SamplesPerEntry(s).Contains(4));   // 2 × beam width candidates
        Assert.Contains(batchOne[2], s => SamplesPerEntry(s).Contains(2));   // the n = 2 prompt's two draws
    }

    private static IEnumerable<int> SamplesPerEntry(string step) =>
        step[(step.IndexOf(": ", StringComparison.Ordinal) + 2)..].Split(" | ").Select(e => e.Count(c => c == '['));

    /// <summary>Each request's outputs, step by step ("token:logprob[top…]" per sample, its entries joined).</summary>
    private static Dictionary<int, List<string>> Run(int threads, bool alone)
    {
        var results = new Dictionary<int, List<string>>();
        using var backend = new CpuBackend(threads);
        using var sampler = backend.CreateSampler(Settings);
        var outputs = new StepOutputs();
        var groups = alone ? Enumerable.Range(0, Requests).Select(r => new[] { r }) : [Enumerable.Range(0, Requests).ToArray()];
        foreach (var group in groups)
        {
            var factory = new WatchedConstraintFactory();
            var core = new EngineCore(new SchedulerOptions { EosTokenId = Eos },
                new KvCacheManager(new KvCacheOptions { NumGpuBlocks = 1024, BlockSizeTokens = 16 })) { TokenConstraints = factory };
            var indexOf = new Dictionary<long, int>();
            foreach (int r in group)
                indexOf[core.AddRequest([1000 + r, 5, 6, 7 + r % 3], ParamsOf(r)).Id] = r;
            for (int step = 0; step < 8 && core.HasUnfinished; step++)
            {
                var plan = core.BeginStep();
                StepMasks.Start(plan).GetAwaiter().GetResult();
                using var logits = backend.Upload(Logits(plan), plan.NumLogitsRows, Vocab);
                factory.Sampling = true;
                sampler.Sample(new UnboundStep(), logits, plan, outputs);
                factory.Sampling = false;
                var text = new Dictionary<int, List<string>>();
                for (int k = 0; k < outputs.NumEntries; k++)
                {
                    var samples = outputs.SamplesOf(k);
                    if (samples.Length == 0)
                        continue;
                    int r = indexOf[plan.RequestIds[k]];
                    (text.TryGetValue(r, out var list) ? list : text[r] = []).Add(string.Join(" ", samples.ToArray().Select(s =>
                        $"{s.TokenId}:{s.LogProb}[{string.Join(",", outputs.TopLogprobsOf(s).ToArray().Select(t => $"{t.TokenId}:{t.LogProb}"))}]")));
                }
                foreach (var (r, entries) in text)
                    (results.TryGetValue(r, out var list) ? list : results[r] = []).Add($"{step}: {string.Join(" | ", entries)}");
                core.CompleteStep(outputs);
            }
            Assert.Equal(0, factory.CallsWhileSampling);
            Assert.True(factory.Calls > 0 || !group.Any(r => r % 8 == 7), "no structured-output row ran");
        }
        return results;
    }

    /// <summary>Row l's logits from its request's prompt and its sequence's tokens so far alone.</summary>
    private static float[] Logits(StepPlan plan)
    {
        var all = new float[plan.NumLogitsRows * Vocab];
        for (int l = 0; l < plan.NumLogitsRows; l++)
        {
            var row = plan.SamplingOf(l);
            var hash = new HashCode();
            hash.Add(row.PromptTokens[0]);
            foreach (int t in row.GeneratedTokens)
                hash.Add(t);
            var rng = new Random(hash.ToHashCode());
            var logits = all.AsSpan(l * Vocab, Vocab);
            for (int i = 0; i < Vocab; i++)
                logits[i] = rng.NextSingle() * 6;
            for (int i = 0; i < 20; i++)
                logits[rng.Next(Vocab)] += 6;   // a few likely tokens, as a model has
        }
        return all;
    }

    private sealed class UnboundStep : StepContext;

    /// <summary>Structured outputs that allow any token in [400, 410), counting calls, and those made while a step's
    /// rows are being sampled.</summary>
    private sealed class WatchedConstraintFactory : ITokenConstraintFactory
    {
        private int _calls, _callsWhileSampling;

        public volatile bool Sampling;
        public int Calls => _calls;
        public int CallsWhileSampling => _callsWhileSampling;
        public int VocabularySize => Vocab;
        public ITokenConstraint Create(StructuredOutputs spec) => new Constraint(this);
        public IReadOnlyList<int> Encode(string text) => [];

        private void Called()
        {
            Interlocked.Increment(ref _calls);
            if (Sampling)
                Interlocked.Increment(ref _callsWhileSampling);
        }

        private sealed class Constraint(WatchedConstraintFactory owner) : ITokenConstraint
        {
            public void ComputeMask(Span<ulong> mask)
            {
                owner.Called();
                mask.Clear();
                for (int id = 400; id < 410; id++)
                    mask[id >> 6] |= 1UL << (id & 63);
            }

            public bool Accept(int tokenId)
            {
                owner.Called();
                return tokenId is >= 400 and < 410;
            }

            public bool IsTerminated => false;

            public ITokenConstraint Clone() => new Constraint(owner);
        }
    }
}
