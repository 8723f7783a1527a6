using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

/// <summary>The scheduler's running list: service order kept through inserts and removals, and finished groups
/// removed whatever order the step reports them in.</summary>
public class RunningGroupsTests
{
    private static SequenceGroup[] Groups(int count)
    {
        var groups = new SequenceGroup[count];
        for (int i = 0; i < count; i++)
        {
            groups[i] = new Request(i, [1, 2, 3], new SamplingParams { MaxTokens = 4 }, i, 0, default).Group;
            groups[i].NumLive = 1;
        }
        return groups;
    }

    private static RunningGroups Running(SequenceGroup[] groups)
    {
        var running = new RunningGroups();
        for (int i = 0; i < groups.Length; i++)
            running.Insert(i, groups[i]);
        return running;
    }

    private static List<long> Ids(RunningGroups running)
    {
        var ids = new List<long>();
        foreach (var g in running)
            ids.Add(g.RequestId);
        return ids;
    }

    [Fact]
    public void RemoveFinished_InServiceOrder_KeepsTheOthersInOrder()
    {
        var g = Groups(6);
        var running = Running(g);
        g[1].NumLive = 0;
        g[4].NumLive = 0;

        running.RemoveFinished([g[1], g[4]]);

        Assert.Equal([0, 2, 3, 5], Ids(running));
        Assert.Equal(4, running.Count);
    }

    [Fact]
    public void RemoveFinished_OutOfServiceOrder_StillRemovesEveryFinishedGroup()
    {
        // A request admitted ahead of older ones (priority) has its row after theirs, so the step can list it
        // finished after a group that precedes it in service order.
        var g = Groups(6);
        var running = Running(g);
        g[1].NumLive = 0;
        g[4].NumLive = 0;

        running.RemoveFinished([g[4], g[1]]);

        Assert.Equal([0, 2, 3, 5], Ids(running));
    }

    [Fact]
    public void RemoveFinished_AllOrNone()
    {
        var g = Groups(3);
        var running = Running(g);
        running.RemoveFinished([]);
        Assert.Equal([0, 1, 2], Ids(running));

        foreach (var x in g)
            x.NumLive = 0;
        running.RemoveFinished([g[0], g[1], g[2]]);
        Assert.Equal(0, running.Count);
    }

    [Fact]
    public void InsertAndRemove_KeepServiceOrder()
    {
        var g = Groups(5);
        var running = new RunningGroups();
        running.Insert(0, g[2]);
        running.Insert(0, g[0]);
        running.Insert(1, g[1]);
        running.Insert(3, g[4]);
        running.Insert(3, g[3]);
        Assert.Equal([0, 1, 2, 3, 4], Ids(running));

        Assert.True(running.Remove(g[2]));
        Assert.False(running.Remove(g[2]));
        running.RemoveAt(0);
        Assert.Equal([1, 3, 4], Ids(running));
        Assert.Same(g[3], running[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => running[3]);
    }
}
