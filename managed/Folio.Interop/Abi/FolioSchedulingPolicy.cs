namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_scheduling_policy</c> in folio.h (ABI 1.2).</summary>
public enum FolioSchedulingPolicy
{
    Fcfs = 0,
    Priority = 1,
}
