namespace Folio.Cli.Bench;

/// <summary>What <c>folio bench</c> measured; printed as text or as one JSON object (snake_case keys).</summary>
public sealed record BenchResult
{
    public required string Executor { get; init; }
    /// <summary>Whether the fake executor simulated the K/V and checked every plan.</summary>
    public required bool Verify { get; init; }
    public required int MaxNumSeqs { get; init; }
    public required int N { get; init; }
    public required int BeamWidth { get; init; }
    public required int Requests { get; init; }
    public required int GpuBlocks { get; init; }
    public required int BlockSizeTokens { get; init; }
    public required bool PrefixCaching { get; init; }
    /// <summary>Steps in the measured steady state (the engine full: max_num_seqs reserved, requests queued).</summary>
    public required long SteadySteps { get; init; }
    /// <summary>
    /// Steady steps over which memory (KV utilization, sharing, running sequences) is averaged: those after every
    /// request of the initial fill has finished, so that the sequences' ages are those of the steady state.
    /// </summary>
    public required long MemorySteps { get; init; }
    /// <summary>
    /// False when no step was steady (too few requests: the engine never held max_num_seqs with more waiting).
    /// The per-step figures (steps_per_s … cpu_us_per_step) are then null, not 0: there was nothing to measure.
    /// </summary>
    public required bool SteadyStateMeasured { get; init; }
    /// <summary>False when no steady step came after the initial fill left (memory_steps 0): the memory figures
    /// (running_seqs, kv_utilization_pct, the block counts and sharing) are then null.</summary>
    public required bool MemoryMeasured { get; init; }
    public required double? StepsPerS { get; init; }
    /// <summary>Mean wall-clock time of LlmEngine.Step over the steady state (the engine's single thread).</summary>
    public required double? UsPerStep { get; init; }
    /// <summary>Median of the same.</summary>
    public required double? UsPerStepP50 { get; init; }
    /// <summary>Phases of the step over the steady state: Scheduler.Schedule, the executor, Scheduler.Postprocess.</summary>
    public required double? ScheduleUsPerStep { get; init; }
    public required double? ExecuteUsPerStep { get; init; }
    public required double? PostprocessUsPerStep { get; init; }
    /// <summary>Managed bytes allocated by the engine thread per steady-state step (new requests included: see requests_added_per_step).</summary>
    public required double? AllocBytesPerStep { get; init; }
    /// <summary>Bytes allocated inside <c>LlmEngine.Step</c> alone (the hot path), per steady step; the rest of
    /// <see cref="AllocBytesPerStep"/> is the requests the bench adds (each request's own buffers).</summary>
    public required double? StepAllocBytesPerStep { get; init; }
    public required double? RequestsAddedPerStep { get; init; }
    /// <summary>Process CPU time over the steady state / steps (includes the benchmark's own request feeding and GC).</summary>
    public required double? CpuUsPerStep { get; init; }
    /// <summary>Mean sequences computed per steady-state step.</summary>
    public required double? RunningSeqs { get; init; }
    public required long Preemptions { get; init; }
    public required long RecomputePreemptions { get; init; }
    public required long SwapPreemptions { get; init; }
    /// <summary>Used GPU blocks / total while a step computes, mean over the memory window.</summary>
    public required double? KvUtilizationPct { get; init; }
    /// <summary>
    /// Σ blocks of the live sequences' tables (each counted as if it owned them: no sharing) while a step computes
    /// (after Schedule's appends and copy-on-write copies), mean over the memory window.
    /// </summary>
    public required double? LogicalBlocks { get; init; }
    /// <summary>Physical GPU blocks in use while a step computes, mean over the memory window.</summary>
    public required double? PhysicalBlocks { get; init; }
    /// <summary>1 - physical / logical while a step computes, in percent: the memory saved by sharing blocks (forks, prefix hits).</summary>
    public required double? SharingSavedPct { get; init; }
    /// <summary>The same sampled between steps (after Postprocess), where this step's new forks still share their parents' partial last blocks.</summary>
    public required double? LogicalBlocksBetweenSteps { get; init; }
    public required double? PhysicalBlocksBetweenSteps { get; init; }
    public required double? SharingSavedBetweenStepsPct { get; init; }
    public required double PrefixHitRatePct { get; init; }
    public required long TotalSteps { get; init; }
    public required long TokensGenerated { get; init; }
    public required double WallS { get; init; }
}
