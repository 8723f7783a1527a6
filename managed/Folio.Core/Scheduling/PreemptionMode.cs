namespace Folio.Core.Scheduling;

/// <summary>How a preempted request gives back its GPU blocks.</summary>
public enum PreemptionMode
{
    /// <summary>Free the blocks and recompute prompt + generated tokens on readmission (multi-sequence groups still swap).</summary>
    Recompute,
    /// <summary>Move the blocks to the CPU pool (falls back to recompute for a single sequence when the CPU pool is full).</summary>
    Swap,
}
