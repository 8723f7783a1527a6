namespace Folio.Core.Scheduling;

/// <summary>Scheduling limits and policy. Validate throws an ArgumentException naming the bad field.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Token budget of one step (prefill chunks + decode tokens).</summary>
    public int MaxNumBatchedTokens { get; init; } = 2048;

    /// <summary>Cap on running sequences (a request reserves its width: n, or beam width).</summary>
    public int MaxNumSeqs { get; init; } = 256;

    /// <summary>Split prompts longer than what is left of the budget across steps.</summary>
    public bool EnableChunkedPrefill { get; init; } = true;

    public SchedulingPolicy Policy { get; init; } = SchedulingPolicy.Fcfs;

    public PreemptionMode PreemptionMode { get; init; } = PreemptionMode.Recompute;

    /// <summary>The end-of-sequence token id of the model's vocabulary (-1 = none).</summary>
    public int EosTokenId { get; init; } = -1;

    public void Validate()
    {
        if (MaxNumBatchedTokens < 1)
            throw new ArgumentException($"MaxNumBatchedTokens must be at least 1, got {MaxNumBatchedTokens}.", nameof(MaxNumBatchedTokens));
        if (MaxNumSeqs < 1)
            throw new ArgumentException($"MaxNumSeqs must be at least 1, got {MaxNumSeqs}.", nameof(MaxNumSeqs));
        if (!Enum.IsDefined(Policy))
            throw new ArgumentException($"Policy {(int)Policy} is not a scheduling policy.", nameof(Policy));
        if (!Enum.IsDefined(PreemptionMode))
            throw new ArgumentException($"PreemptionMode {(int)PreemptionMode} is not a preemption mode.", nameof(PreemptionMode));
    }
}
