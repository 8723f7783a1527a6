using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

/// <summary>
/// <see cref="LlmEngine.RunAsync"/>: the loop steps on its own named thread (not the thread pool's), stops with its
/// token, reports a step's exception through its task, and the state lock is not held while the model executes, so
/// that a submission, an abort or a stats read from a handler never waits for a forward pass.
/// </summary>
public sealed class BackgroundLoopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Runs the fake model, but can hold a step inside Execute until released (a long forward pass).</summary>
    private sealed class GatedExecutor(IModelExecutor inner) : IModelExecutor
    {
        public readonly SemaphoreSlim Entered = new(0);
        public readonly ManualResetEventSlim Release = new(true);
        public Exception? Throw { get; set; }

        public StepOutputs Execute(StepPlan plan)
        {
            if (Throw is { } e) throw e;
            Entered.Release();
            if (!Release.Wait(Bound)) throw new TimeoutException("the test never released the step");
            return inner.Execute(plan);
        }
    }

    private static (LlmEngine Engine, GatedExecutor Gate) Create()
    {
        var fake = new FakeExecutor(new FakeExecutorOptions { NumGpuBlocks = 64, BlockSizeTokens = 4, VocabSize = 1000, EosTokenId = 0, DefaultSeed = 7 });
        var gate = new GatedExecutor(fake);
        var engine = new LlmEngine(new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = 64, BlockSizeTokens = 4 },
            Scheduler = new SchedulerOptions { MaxNumBatchedTokens = 64, MaxNumSeqs = 16, EosTokenId = 0 },
        }, gate, new FakeTextDecoder());
        return (engine, gate);
    }

    private static SamplingParams Tokens(int n) => new() { MaxTokens = n, Seed = 3, IgnoreEos = true };

    [Fact]
    public async Task Loop_StepsOnItsOwnNamedThread_AndTheThreadEndsWithTheLoop()
    {
        var (engine, _) = Create();
        Thread? stepping = null;
        bool onPool = true;
        engine.StepCompleted += _ =>
        {
            stepping = Thread.CurrentThread;
            onPool = Thread.CurrentThread.IsThreadPoolThread;
        };
        using var cts = new CancellationTokenSource();
        var loop = engine.RunAsync(cts.Token);
        var output = await engine.Submit(EngineHarness.Prompt(1, 6), Tokens(5)).Completion.WaitAsync(Bound);
        Assert.Equal(5, output.Outputs[0].TokenIds.Count);

        Assert.NotNull(stepping);
        Assert.Equal("folio engine loop", stepping.Name);
        Assert.False(onPool);
        Assert.True(stepping.IsBackground);
        InvalidOperationException? second = null;
        try { _ = engine.RunAsync(); } catch (InvalidOperationException e) { second = e; }
        Assert.NotNull(second);   // one loop per engine

        await cts.CancelAsync();
        await loop.WaitAsync(Bound);
        Assert.Equal(TaskStatus.RanToCompletion, loop.Status);
        Assert.True(stepping.Join(Bound), "the loop's thread did not end");
        Assert.False(engine.IsLoopRunning);
    }

    [Fact]
    public async Task AnIdleLoop_BlocksInsteadOfSpinning()
    {
        var (engine, _) = Create();
        string? task = null;   // the stepping thread's /proc entry ("PID/task/TID"; Linux, as the project)
        engine.StepCompleted += _ => task ??= new FileInfo("/proc/thread-self").LinkTarget;
        using var cts = new CancellationTokenSource();
        var loop = engine.RunAsync(cts.Token);
        await engine.Submit(EngineHarness.Prompt(5, 6), Tokens(3)).Completion.WaitAsync(Bound);
        Assert.NotNull(task);
        await Task.Delay(50);   // its last step's end (the loop checks once more for work, then waits)

        long steps = engine.GetStepTimings().Steps;
        long before = CpuTicks(task);
        await Task.Delay(500);
        long used = CpuTicks(task) - before;
        // Clock ticks (10 ms each): a spinning loop would use tens of them in 500 ms even on a busy machine.
        Assert.True(used <= 2, $"the idle loop used {used} ticks of CPU in 500 ms");
        Assert.Equal(steps, engine.GetStepTimings().Steps);

        await cts.CancelAsync();
        await loop.WaitAsync(Bound);
    }

    /// <summary>utime + stime of one thread, from /proc/PID/task/TID/stat (fields 14 and 15, after the name).</summary>
    private static long CpuTicks(string task)
    {
        string stat = File.ReadAllText($"/proc/{task}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // fields from 3 (state) on
        return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
            + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task SubmitAbortAndStats_DoNotWaitForAForwardPass()
    {
        var (engine, gate) = Create();
        gate.Release.Reset();   // the first step stays inside the model until released
        using var cts = new CancellationTokenSource();
        var loop = engine.RunAsync(cts.Token);
        var first = engine.Submit(EngineHarness.Prompt(2, 6), Tokens(40));
        Assert.True(await gate.Entered.WaitAsync(Bound), "the loop did not reach the model");

        // The loop is inside Execute now: none of these may block on it (each would time out if it did).
        var second = await Task.Run(() => engine.Submit(EngineHarness.Prompt(3, 6), Tokens(4))).WaitAsync(TimeSpan.FromSeconds(5));
        var stats = await Task.Run(engine.GetSchedulerStats).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, stats.NumRunning);
        Assert.Equal(1, stats.NumWaiting);
        int usedDuringStep = engine.GetKvStats().UsedBlocks;
        Assert.True(usedDuringStep > 0);
        Assert.True(await Task.Run(() => engine.Abort(first.RequestId)).WaitAsync(TimeSpan.FromSeconds(5)));
        // The open plan may still use the aborted request's blocks: they are freed when the step completes.
        Assert.Equal(usedDuringStep, engine.GetKvStats().UsedBlocks);
        Assert.False(first.Completion.IsCompleted);

        gate.Release.Set();
        var aborted = await first.Completion.WaitAsync(Bound);
        Assert.Equal(FinishReason.Abort, aborted.Outputs[0].FinishReason);
        var done = await second.Completion.WaitAsync(Bound);
        Assert.Equal(4, done.Outputs[0].TokenIds.Count);

        await cts.CancelAsync();
        await loop.WaitAsync(Bound);
        Assert.Equal(0, engine.GetKvStats().UsedBlocks);
        engine.CheckInvariants();
    }

    [Fact]
    public async Task AStepThatThrows_FaultsTheLoopsTask()
    {
        var (engine, gate) = Create();
        gate.Throw = new InvalidOperationException("model failed");
        var loop = engine.RunAsync();
        engine.Submit(EngineHarness.Prompt(4, 6), Tokens(3));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => loop.WaitAsync(Bound));
        Assert.Equal("model failed", e.Message);
        Assert.False(engine.IsLoopRunning);
    }
}
