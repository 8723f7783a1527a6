using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Microsoft.Extensions.Logging;

namespace Folio.Core.Tests.Engine;

public class EngineLoggingTests
{
    private sealed class CapturingLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => Entries.Add((logLevel, formatter(state, exception)));
    }

    private static LlmEngine NewEngine(CapturingLogger log, int gpuBlocks) => new(new EngineOptions
    {
        KvCache = new KvCacheOptions { NumGpuBlocks = gpuBlocks, BlockSizeTokens = 4 },
        Scheduler = new SchedulerOptions { MaxNumBatchedTokens = 64, MaxNumSeqs = 8, EosTokenId = 0 },
    }, new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = gpuBlocks, BlockSizeTokens = 4, VocabSize = 100, EosTokenId = 0 }),
        logger: log);

    [Fact]
    public void RejectedRequest_IsLoggedOnceAsAWarningWithItsReason()
    {
        var log = new CapturingLogger();
        var engine = NewEngine(log, gpuBlocks: 4);
        var r = engine.AddRequest(EngineHarness.Prompt(1, 40, 100), new SamplingParams { MaxTokens = 4, IgnoreEos = true });
        Assert.Equal(FinishReason.Rejected, r.FinishReason);
        engine.Step();
        var warning = Assert.Single(log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal($"request {r.Id} rejected: {r.RejectReason}", warning.Message);
    }

    [Fact]
    public void FinishedRequests_AndPreemptions_AreLogged()
    {
        var log = new CapturingLogger();
        var engine = NewEngine(log, gpuBlocks: 12);
        var requests = Enumerable.Range(0, 4)
            .Select(i => engine.AddRequest(EngineHarness.Prompt(i, 10, 100), new SamplingParams { MaxTokens = 20, IgnoreEos = true }))
            .ToArray();
        while (engine.HasUnfinished)
            engine.Step();
        foreach (var r in requests)
            Assert.Contains((LogLevel.Debug, $"request {r.Id} finished (Length)"), log.Entries);
        long preemptions = engine.GetSchedulerStats().Preemptions;
        Assert.True(preemptions > 0, "the pool is sized to force preemption");
        long logged = log.Entries.Count(e => e.Level == LogLevel.Information && e.Message.Contains("preempted"));
        Assert.InRange(logged, 1, preemptions);
    }
}
