using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Core.Tests.KvCache;

namespace Folio.Core.Tests.Engine;

/// <summary>
/// Scheduler.CheckConsistency (run by the engine's CheckInvariants, after every step of every engine test) catches
/// each kind of bad state it checks for: a healthy state is corrupted on purpose through internals, and the
/// check must throw naming the violation. The KV cache itself stays consistent in each (KvInvariants passes).
/// </summary>
public class SchedulerConsistencyTests
{
    private static readonly SamplingParams One = new() { MaxTokens = 8, Seed = 1, IgnoreEos = true };

    /// <summary>A running single-sequence request after two steps (prompt 6, one token generated).</summary>
    private static (EngineHarness H, Request R, Sequence S) Running()
    {
        var h = new EngineHarness(gpuBlocks: 32, blockSize: 4);
        var r = h.Add(EngineHarness.Prompt(1, 6), One);
        h.Step();
        h.Step();
        Assert.Equal(SequenceStatus.Running, r.Status);
        return (h, r, r.Sequences[0]);
    }

    private static string Fails(EngineHarness h)
    {
        var ex = Assert.Throws<InvalidOperationException>(h.Engine.CheckInvariants);
        return ex.Message;
    }

    [Fact]
    public void HealthyStates_Pass()
    {
        var (h, _, _) = Running();
        h.Add(EngineHarness.Prompt(2, 6), One);   // and one waiting
        h.Engine.CheckInvariants();
        var (hs, swapped) = Swapped();
        hs.Engine.CheckInvariants();
        Assert.Equal(SequenceStatus.Swapped, swapped.Status);
    }

    [Fact]
    public void ARequestQueuedTwice_IsCaught()
    {
        var h = new EngineHarness(gpuBlocks: 32, blockSize: 4);
        var r = h.Add(EngineHarness.Prompt(1, 6), One);
        r.Group.Sequences.Clear();                 // lets Add queue the same request again
        Assert.True(h.Engine.Scheduler.Add(r));
        Assert.Equal($"{r} is queued twice.", Fails(h));
    }

    [Fact]
    public void ARequestInTheWrongQueue_IsCaught()
    {
        var (h, r, _) = Running();
        r.Status = SequenceStatus.Swapped;
        Assert.Equal($"{r} sits in the Running queue.", Fails(h));
    }

    [Fact]
    public void AFinishedSequenceHoldingATable_IsCaught()
    {
        var (h, _, s) = Running();
        s.Status = SequenceStatus.Finished;
        Assert.Equal($"finished {s} still holds a table.", Fails(h));
    }

    [Fact]
    public void ASequenceWhoseStatusIsNotItsRequests_IsCaught()
    {
        var (h, _, s) = Running();
        s.Status = SequenceStatus.Waiting;
        Assert.Equal($"{s} of a Running request.", Fails(h));
    }

    [Fact]
    public void AWaitingSequenceWithComputedTokens_IsCaught()
    {
        var h = new EngineHarness(gpuBlocks: 32, blockSize: 4);
        var r = h.Add(EngineHarness.Prompt(1, 6), One);
        var s = r.Sequences[0];
        s.NumComputedTokens = 3;
        Assert.Equal($"waiting {s} holds K/V.", Fails(h));
    }

    [Fact]
    public void ARunningSequenceWhoseTableDisagrees_IsCaught()
    {
        var (h, _, s) = Running();
        s.NumComputedTokens--;
        Assert.Equal($"running {s} has table Gpu/7 slots.", Fails(h));
    }

    [Fact]
    public void ASwappedSequenceWhoseTableDisagrees_IsCaught()
    {
        var (h, r) = Swapped();
        var s = r.Sequences.First(x => !x.IsFinished);
        int slots = s.Table!.NumTokens;
        s.NumComputedTokens--;
        Assert.Equal($"swapped {s} has table Cpu/{slots} slots.", Fails(h));
    }

    [Fact]
    public void ASequenceWithNothingLeftToCompute_IsCaught()
    {
        var (h, _, s) = Running();
        // The table takes the pending token too, and the sequence says it was computed: nothing left to run.
        h.Engine.KvCache.Append(s.Table!, s.Tokens[^1..], []);
        s.NumComputedTokens++;
        Assert.Equal($"{s} has nothing left to compute.", Fails(h));
    }

    [Fact]
    public void AWrongLiveCount_IsCaught()
    {
        var (h, r, _) = Running();
        r.Group.NumLive = 2;
        Assert.Equal($"{r} counts 2 live sequences, has 1.", Fails(h));
    }

    [Fact]
    public void AGroupOutOfStepOutsideARecompute_IsCaught()
    {
        var h = new EngineHarness(gpuBlocks: 32, blockSize: 4);
        var r = h.Add(EngineHarness.Prompt(1, 6), One with { N = 2 });
        h.Step();
        h.Step();
        Assert.Equal(2, r.Group.NumLive);
        r.Sequences[1].Append(5);               // one sample two tokens ahead of its K/V, the group not recomputing
        Assert.Equal($"{r} runs 2 sequences that are not all in decode, yet is not recomputing.", Fails(h));
    }

    [Fact]
    public void AWrongReservedWidth_IsCaught()
    {
        var (h, _, _) = Running();
        var field = typeof(Scheduler).GetField("_reservedSeqs", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
        Assert.NotNull(field);                  // renamed: update this test, the check still needs one
        field.SetValue(h.Engine.Scheduler, 3);
        Assert.Equal("reserved sequences 3, running requests' widths sum to 1.", Fails(h));
    }

    [Fact]
    public void ATableThatNoSequenceHolds_IsCaught()
    {
        var (h, _, _) = Running();
        Kv.Admit(h.Engine.KvCache, Kv.Range(100, 5));   // a live table of the KV manager's, no sequence's
        Assert.Equal("the KV manager has 2 live tables; the scheduler's sequences hold 1.", Fails(h));
    }

    /// <summary>A request swapped out: two 2-sample requests on a GPU pool too small for both (swap mode).</summary>
    private static (EngineHarness H, Request R) Swapped()
    {
        var h = new EngineHarness(gpuBlocks: 12, blockSize: 4, cpuBlocks: 32, maxBatchedTokens: 64, mode: PreemptionMode.Swap);
        var p = new SamplingParams { N = 2, MaxTokens = 12, Seed = 1, IgnoreEos = true };
        var a = h.Add(EngineHarness.Prompt(40, 6), p);
        var b = h.Add(EngineHarness.Prompt(41, 6), p);
        for (int i = 0; i < 100 && a.Status != SequenceStatus.Swapped && b.Status != SequenceStatus.Swapped; i++)
            h.Step();
        return (h, a.Status == SequenceStatus.Swapped ? a : b);
    }
}
