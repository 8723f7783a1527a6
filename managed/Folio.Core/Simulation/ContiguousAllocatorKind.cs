namespace Folio.Core.Simulation;

/// <summary>Which contiguous allocator the Orca policies place their reservations with.</summary>
public enum ContiguousAllocatorKind
{
    /// <summary>Binary buddy allocation, as the paper's Orca baselines used (§6.1): sizes round up to powers of two.</summary>
    Buddy,
    /// <summary>Exact-size first-fit over the slot range.</summary>
    FirstFit,
}
