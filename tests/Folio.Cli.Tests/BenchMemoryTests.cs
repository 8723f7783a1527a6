using Folio.Cli.Bench;

namespace Folio.Cli.Tests;

/// <summary>The fake bench's memory figures (issue 3's sharing acceptance): what is sampled, and when.</summary>
public class BenchMemoryTests
{
    private static BenchResult Run(int n = 1, int beamWidth = 0) => BenchRunner.Run(new BenchOptions
    {
        MaxNumSeqs = 64, N = n, BeamWidth = beamWidth, Requests = 600, Seed = 4,
    });

    [Fact]
    public void Without_sharing_nothing_is_saved_at_either_sampling_point()
    {
        var r = Run();
        Assert.Equal(0.0, r.SharingSavedPct);
        Assert.Equal(0.0, r.SharingSavedBetweenStepsPct);
        Assert.Equal(r.PhysicalBlocks, r.LogicalBlocks);
        Assert.Equal(r.PhysicalBlocksBetweenSteps, r.LogicalBlocksBetweenSteps);
        // Memory waits for the initial fill to leave, inside the steady state.
        Assert.InRange(r.MemorySteps, 1, r.SteadySteps - 1);
    }

    [Fact]
    public void Beams_save_less_while_a_step_computes_than_between_steps()
    {
        // Between steps, this step's new beams still share their parents' partial last blocks; the next
        // Schedule copies them before anything is computed in them.
        var r = Run(beamWidth: 4);
        Assert.True(r.SharingSavedPct > 0);
        Assert.True(r.SharingSavedPct < r.SharingSavedBetweenStepsPct,
            $"in step {r.SharingSavedPct:F2}%, between steps {r.SharingSavedBetweenStepsPct:F2}%");
        Assert.True(r.PhysicalBlocks > r.PhysicalBlocksBetweenSteps);
    }

    [Fact]
    public void Parallel_samples_share_their_prompts_full_blocks()
    {
        var two = Run(n: 2);
        var four = Run(n: 4);
        Assert.True(two.SharingSavedPct > 0);
        Assert.True(four.SharingSavedPct > two.SharingSavedPct);
    }
}
