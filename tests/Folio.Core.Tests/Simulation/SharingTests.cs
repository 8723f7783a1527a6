using Folio.Core.Simulation;

namespace Folio.Core.Tests.Simulation;

public class SharingTests
{
    // Prompt of 32 = 2 full blocks of 16, shared by 2 samples; each sample's next token opens its own block.
    // Both steps: 2 shared + 2 own = 4 blocks used, 3 + 3 = 6 without sharing.
    [Fact]
    public void Parallel_sampling_shares_the_full_prompt_blocks()
    {
        var r = SharingSimulation.Run([new SimRequest(32, 2)], SharingMode.ParallelSampling, 2, 16, seed: 1);
        Assert.Equal(2, r.Steps);
        Assert.Equal(4.0, r.MeanBlocksShared);
        Assert.Equal(6.0, r.MeanBlocksUnshared);
        Assert.Equal(100.0 / 3, r.SavedPct, 9);
    }

    // Prompt of 20 = 1 full + 1 partial block. The first sample's write copies the shared partial block
    // (copy-on-write); the second then holds it alone and writes in place: 3 blocks used, 4 without sharing.
    [Theory]
    [InlineData(SharingMode.ParallelSampling)]
    [InlineData(SharingMode.BeamSearch)]   // the first beam step forks the prompt exactly like sampling
    public void A_shared_partial_block_is_copied_on_write(SharingMode mode)
    {
        var r = SharingSimulation.Run([new SimRequest(20, 1)], mode, 2, 16, seed: 1);
        Assert.Equal(1, r.Steps);
        Assert.Equal(3.0, r.MeanBlocksShared);
        Assert.Equal(4.0, r.MeanBlocksUnshared);
        Assert.Equal(25.0, r.SavedPct, 9);
    }

    [Theory]
    [InlineData(SharingMode.ParallelSampling)]
    [InlineData(SharingMode.BeamSearch)]
    public void Width_one_shares_nothing(SharingMode mode)
    {
        var r = SharingSimulation.Run(SyntheticWorkload.Generate(WorkloadKind.AlpacaLike, 50, seed: 3), mode, 1, 16, seed: 3);
        Assert.Equal(r.MeanBlocksUnshared, r.MeanBlocksShared);
        Assert.Equal(0.0, r.SavedPct);
    }

    [Fact]
    public void Beam_search_shares_more_than_parallel_sampling_and_is_reproducible()
    {
        SimRequest[] requests = SyntheticWorkload.Generate(WorkloadKind.AlpacaLike, 200, seed: 9);
        var beam = SharingSimulation.Run(requests, SharingMode.BeamSearch, 4, 16, seed: 9);
        var again = SharingSimulation.Run(requests, SharingMode.BeamSearch, 4, 16, seed: 9);
        var sampling = SharingSimulation.Run(requests, SharingMode.ParallelSampling, 4, 16, seed: 9);
        Assert.Equal(beam, again);
        // Same sequences and lengths, so the same blocks without sharing; beams also share generated history.
        Assert.Equal(sampling.MeanBlocksUnshared, beam.MeanBlocksUnshared);
        Assert.True(beam.MeanBlocksShared < sampling.MeanBlocksShared);
    }
}
