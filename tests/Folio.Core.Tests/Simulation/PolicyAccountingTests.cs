using Folio.Core.Simulation;

namespace Folio.Core.Tests.Simulation;

/// <summary>
/// Each policy on tiny workloads whose every step was worked out by hand (the comments give the steps).
/// Percentages are sums over the measured (saturated) steps divided by steps × capacity.
/// </summary>
public class PolicyAccountingTests
{
    private static readonly SimRequest[] Four = [new(2, 2), new(3, 3), new(4, 4), new(1, 1)];

    private static void AssertResult(PolicyResult r, long steps, double tokens, double reserved, double internalFrag,
        double externalFrag, double meanBatch, int completed, int preemptions = 0)
    {
        Assert.Equal(steps, r.SaturatedSteps);
        Assert.Equal(tokens, r.TokenStatePct, 9);
        Assert.Equal(reserved, r.ReservedPct, 9);
        Assert.Equal(internalFrag, r.InternalFragPct, 9);
        Assert.Equal(externalFrag, r.ExternalFragPct, 9);
        Assert.Equal(meanBatch, r.MeanBatch, 9);
        Assert.Equal(completed, r.CompletedRequests);
        Assert.Equal(preemptions, r.Preemptions);
    }

    // 16 slots, first fit. A=[0,4) B=[4,10); C (8) waits.
    // step 1: A 3 tokens, B 4; reserved 1 + 2; free 6.   step 2: 4 + 5 tokens, reserved 0 + 1, free 6; A ends.
    // step 3: holes 4 and 6, C still waits; B 6 tokens, free 10; B ends. step 4 admits C and D: queue empty.
    [Fact]
    public void Orca_oracle_first_fit()
    {
        var options = new SimulationOptions { KvTokens = 16, MaxSequenceTokens = 8, ContiguousAllocator = ContiguousAllocatorKind.FirstFit };
        var r = OrcaSimulation.Run(Four, new PolicySpec(PolicyKind.OrcaOracle), options);
        AssertResult(r, 3, 100.0 * 22 / 48, 100.0 * 4 / 48, 0, 100.0 * 22 / 48, 5.0 / 3, 4);
    }

    // 16 slots, 8 reserved each: A=[0,8) B=[8,16). Internal = 8 − final length: 4 for A, 2 for B, 0 for C.
    // step 1: tokens 3+4, reserved 1+2, internal 6. step 2: 4+5, 0+1, 6; A ends.
    // step 3: C admitted into [0,8); B 6 + C 5 tokens, reserved 0+3, internal 2+0. step 4 admits D: queue empty.
    [Fact]
    public void Orca_max_first_fit()
    {
        var options = new SimulationOptions { KvTokens = 16, MaxSequenceTokens = 8, ContiguousAllocator = ContiguousAllocatorKind.FirstFit };
        var r = OrcaSimulation.Run(Four, new PolicySpec(PolicyKind.OrcaMax), options);
        AssertResult(r, 3, 100.0 * 27 / 48, 100.0 * 7 / 48, 100.0 * 14 / 48, 0, 2, 4);
    }

    // Buddy: A (4) at [0,4), B (6) in an 8-block at [8,16) with 2 slack; C (8) waits (only [4,8) free).
    // steps 1, 2 as first fit but external = 4 free + 2 slack. A ends, [0,8) merges; step 3: C at [0,8),
    // D (2) finds no block; B 6 + C 5 tokens, reserved 3, external = slack 2. step 4 admits D: queue empty.
    [Fact]
    public void Orca_oracle_buddy_counts_rounding_slack_as_external()
    {
        var options = new SimulationOptions { KvTokens = 16, MaxSequenceTokens = 8, ContiguousAllocator = ContiguousAllocatorKind.Buddy };
        var r = OrcaSimulation.Run(Four, new PolicySpec(PolicyKind.OrcaOracle), options);
        AssertResult(r, 3, 100.0 * 27 / 48, 100.0 * 7 / 48, 0, 100.0 * 14 / 48, 2, 4);
    }

    // 16 slots, first fit. Reservations: A (2 in, 3 out) 2 + 4 = 6, B (3, 2) 3 + 2 = 5, C (1, 5) 1 + 8 capped to 8,
    // D (1, 1) 2. A=[0,6) B=[6,11); C waits (hole of 5).
    // step 1: A 3 tokens (2 reserved, 1 internal), B 4 (1 reserved); free 5.
    // step 2: A 4 (1 reserved, 1 internal), B 5; free 5; B ends, hole [6,16). step 3 admits C and D: queue empty.
    [Fact]
    public void Orca_pow2_first_fit()
    {
        var options = new SimulationOptions { KvTokens = 16, MaxSequenceTokens = 8, ContiguousAllocator = ContiguousAllocatorKind.FirstFit };
        SimRequest[] requests = [new(2, 3), new(3, 2), new(1, 5), new(1, 1)];
        var r = OrcaSimulation.Run(requests, new PolicySpec(PolicyKind.OrcaPow2), options);
        AssertResult(r, 2, 100.0 * 16 / 32, 100.0 * 4 / 32, 100.0 * 2 / 32, 100.0 * 10 / 32, 2, 4);
    }

    [Fact]
    public void Orca_pow2_reserves_the_prompt_plus_the_next_power_of_two_of_the_output()
    {
        var spec = new PolicySpec(PolicyKind.OrcaPow2);
        Assert.Equal(120 + 512, spec.ContiguousReservation(new SimRequest(120, 300), 2048));
        Assert.Equal(120 + 256, spec.ContiguousReservation(new SimRequest(120, 256), 2048));
        Assert.Equal(2048, spec.ContiguousReservation(new SimRequest(1500, 540), 2048));   // 1500 + 1024, capped
        Assert.Equal(2048, new PolicySpec(PolicyKind.OrcaMax).ContiguousReservation(new SimRequest(1, 1), 2048));
        Assert.Equal(420, new PolicySpec(PolicyKind.OrcaOracle).ContiguousReservation(new SimRequest(120, 300), 2048));
    }

    // Block 4, 2 blocks. step 1: A (4 slots) and B (4 slots) fill both blocks, C waits; 8 tokens; B ends.
    // step 2: A grows to 5 tokens in a second block: final length 6, so 1 reserved and 2 internal.
    // step 3: A 6 tokens, internal 2; A ends. step 4 admits C: queue empty.
    [Fact]
    public void Paged_counts_the_unfillable_tail_of_the_last_block_as_internal()
    {
        var options = new SimulationOptions { KvTokens = 8, MaxSequenceTokens = 8 };
        var r = PagedSimulation.Run([new(3, 3), new(3, 1), new(1, 1)], 4, options);
        AssertResult(r, 3, 100.0 * 19 / 24, 100.0 * 1 / 24, 100.0 * 4 / 24, 0, 4.0 / 3, 3);
    }

    // Block 2, 4 blocks. step 1: A, B, C, D one block each, E waits; 8 tokens; C, D end.
    // step 2: A, B take a block each, 3 tokens each, 1 reserved each. step 3: 4 tokens each.
    // step 4: A needs a block, none free: B (youngest) is preempted (2 blocks back, B resumes as 4 in / 2 out);
    //         A takes one: 5 tokens, 1 reserved, 1 block free; no admission in a step that preempted.
    // step 5: B needs 3 blocks, 1 free: waits; A 6 tokens; A ends. step 6 admits B and E: queue empty.
    [Fact]
    public void Paged_preempts_the_youngest_and_recomputes_it()
    {
        var options = new SimulationOptions { KvTokens = 8, MaxSequenceTokens = 8 };
        SimRequest[] requests = [new(1, 5), new(1, 5), new(1, 1), new(1, 1), new(1, 1)];
        var r = PagedSimulation.Run(requests, 2, options);
        AssertResult(r, 5, 100.0 * 33 / 40, 100.0 * 3 / 40, 0, 100.0 * 4 / 40, 2, 5, preemptions: 1);
    }

    [Fact]
    public void Paged_counts_capacity_below_one_block_as_external()
    {
        // 10 slots in blocks of 4: 2 blocks and 2 slots no block can use. A (3 in, 5 out) holds 1 then 2 blocks.
        var options = new SimulationOptions { KvTokens = 10, MaxSequenceTokens = 8 };
        var r = PagedSimulation.Run([new(3, 5), new(4, 4)], 4, options);
        // step 1: A 4 tokens in 1 block, B (5 slots) needs 2 blocks, 1 free: waits. external = 4 free + 2.
        // step 2: A 5 tokens in 2 blocks (3 reserved), external 2. steps 3-5: 6, 7, 8 tokens (2, 1, 0 reserved).
        // After step 5 A ends; step 6 admits B: queue empty.
        AssertResult(r, 5, 100.0 * (4 + 5 + 6 + 7 + 8) / 50, 100.0 * (0 + 3 + 2 + 1 + 0) / 50, 0,
            100.0 * (6 + 2 + 2 + 2 + 2) / 50, 1, 2);
    }

    [Fact]
    public void Percentages_of_every_policy_sum_to_100()
    {
        SimRequest[] requests = SyntheticWorkload.Generate(WorkloadKind.ShareGptLike, 300, seed: 5);
        var options = new SimulationOptions();
        foreach (var spec in new[] { new PolicySpec(PolicyKind.OrcaMax), new PolicySpec(PolicyKind.OrcaPow2), new PolicySpec(PolicyKind.OrcaOracle), new PolicySpec(PolicyKind.Paged, 16) })
        {
            var r = AllocatorSimulator.Run(requests, spec, options);
            Assert.True(r.SaturatedSteps > 0);
            Assert.Equal(100.0, r.TokenStatePct + r.ReservedPct + r.InternalFragPct + r.ExternalFragPct, 6);
            Assert.Equal(300, r.CompletedRequests);
        }
    }
}
