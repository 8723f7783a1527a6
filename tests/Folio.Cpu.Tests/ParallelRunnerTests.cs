namespace Folio.Cpu.Tests;

/// <summary>The runner's spinning workers: every item runs exactly once per job, job after job (a worker still
/// holding an older job must claim nothing from it), an item's exception reaches the caller, and a job started
/// inside an item (nested) still runs every item.</summary>
public sealed class ParallelRunnerTests
{
    private const long ParallelWork = 1L << 20;   // above the inline threshold

    [Fact]
    public void EveryItemRunsOnceInEachOfManyJobs()
    {
        using var runner = new ParallelRunner(2);
        for (int job = 0; job < 2000; job++)
        {
            int items = 1 + job % 37;
            var hits = new int[items];
            runner.For(items, ParallelWork, hits, static (h, i) => Interlocked.Increment(ref h[i]));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void AnItemsExceptionReachesTheCallerAndTheRunnerStillWorks()
    {
        using var runner = new ParallelRunner(2);
        var e = Assert.Throws<InvalidOperationException>(() =>
            runner.For(16, ParallelWork, 0, static (_, i) => { if (i == 11) throw new InvalidOperationException("item 11"); }));
        Assert.Equal("item 11", e.Message);
        var hits = new int[16];
        runner.For(16, ParallelWork, hits, static (h, i) => Interlocked.Increment(ref h[i]));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void AJobStartedInsideAnItemRunsEveryItem()
    {
        using var runner = new ParallelRunner(2);
        var hits = new int[8 * 8];
        runner.For(8, ParallelWork, (runner, hits), static (s, outer) =>
            s.runner.For(8, ParallelWork, (s.hits, outer), static (t, inner) => Interlocked.Increment(ref t.hits[t.outer * 8 + inner])));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void MoreThreadsThanCoresAndADisposedRunnerStillRunEveryItem()
    {
        var runner = new ParallelRunner(Environment.ProcessorCount + 2);
        var hits = new int[40];
        runner.For(40, ParallelWork, hits, static (h, i) => Interlocked.Increment(ref h[i]));
        runner.Dispose();
        var two = new ParallelRunner(2);
        two.For(40, ParallelWork, hits, static (h, i) => Interlocked.Increment(ref h[i]));
        two.Dispose();
        two.For(40, ParallelWork, hits, static (h, i) => Interlocked.Increment(ref h[i]));   // the caller alone
        Assert.All(hits, h => Assert.Equal(3, h));
    }
}
