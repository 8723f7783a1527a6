namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_preemption_mode</c> in folio.h.</summary>
public enum FolioPreemptionMode
{
    Recompute = 0,
    Swap = 1,
}
