using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

/// <summary>An engine over a <see cref="FakeExecutor"/> with matching pools; checks the KV invariants after every step.</summary>
internal sealed class EngineHarness
{
    public const int Eos = 0;

    public EngineHarness(int gpuBlocks = 64, int blockSize = 4, int cpuBlocks = 0, int maxBatchedTokens = 64,
        int maxSeqs = 16, PreemptionMode mode = PreemptionMode.Recompute, SchedulingPolicy policy = SchedulingPolicy.Fcfs,
        int vocab = 1000, bool record = true, bool verifyHistory = true, bool prefixCaching = true, bool decoder = true,
        bool chunkedPrefill = true)
    {
        Fake = new FakeExecutor(new FakeExecutorOptions
        {
            NumGpuBlocks = gpuBlocks, NumCpuBlocks = cpuBlocks, BlockSizeTokens = blockSize, VocabSize = vocab,
            EosTokenId = Eos, RecordSteps = record, VerifyHistory = verifyHistory, DefaultSeed = 7,
        });
        Engine = new LlmEngine(new EngineOptions
        {
            KvCache = new KvCacheOptions
            {
                NumGpuBlocks = gpuBlocks, BlockSizeTokens = blockSize, NumCpuBlocks = cpuBlocks, EnablePrefixCaching = prefixCaching,
            },
            Scheduler = new SchedulerOptions
            {
                MaxNumBatchedTokens = maxBatchedTokens, MaxNumSeqs = maxSeqs, PreemptionMode = mode, Policy = policy,
                EosTokenId = Eos, EnableChunkedPrefill = chunkedPrefill,
            },
        }, Fake, decoder ? new FakeTextDecoder() : null);
    }

    public FakeExecutor Fake { get; }
    public LlmEngine Engine { get; }
    public int Steps { get; private set; }

    public Request Add(int[] prompt, SamplingParams p, int priority = 0) => Engine.AddRequest(prompt, p, priority);

    public IReadOnlyList<OutputDelta> Step()
    {
        var u = Engine.Step();
        Steps++;
        Engine.CheckInvariants();
        return u;
    }

    /// <summary>For callers that step the engine themselves.</summary>
    public void CountStep() => Steps++;

    public void RunToCompletion(int maxSteps = 100_000)
    {
        while (Engine.HasUnfinished)
        {
            Step();
            if (Steps > maxSteps)
                throw new InvalidOperationException($"not finished after {maxSteps} steps.");
        }
        Assert.Equal(0, Engine.KvCache.GpuPool.NumUsedBlocks);
        Assert.Equal(0, Engine.KvCache.CpuPool?.NumUsedBlocks ?? 0);
    }

    /// <summary>The outputs of one request run alone on a roomy engine (the reference).</summary>
    public static RequestOutput Alone(int[] prompt, SamplingParams p, int vocab = 1000)
    {
        var h = new EngineHarness(gpuBlocks: 4096, blockSize: 4, maxBatchedTokens: 4096, maxSeqs: 64, vocab: vocab, record: false);
        var r = h.Add(prompt, p);
        h.RunToCompletion();
        return h.Engine.GetOutput(r);
    }

    public static int[] Prompt(int seed, int length, int vocab = 1000)
    {
        var rng = new Random(seed);
        var t = new int[length];
        for (int i = 0; i < length; i++)
            t[i] = rng.Next(1, vocab);   // never EOS in a prompt
        return t;
    }

    public static void AssertSameTokens(RequestOutput expected, RequestOutput actual)
    {
        Assert.Equal(expected.Outputs.Count, actual.Outputs.Count);
        for (int i = 0; i < expected.Outputs.Count; i++)
        {
            Assert.Equal(expected.Outputs[i].TokenIds, actual.Outputs[i].TokenIds);
            Assert.Equal(expected.Outputs[i].FinishReason, actual.Outputs[i].FinishReason);
        }
    }
}
