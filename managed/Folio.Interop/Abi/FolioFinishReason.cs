namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_finish_reason</c> in folio.h.</summary>
public enum FolioFinishReason
{
    None = 0,
    Stop = 1,
    Length = 2,
    Abort = 3,
    Rejected = 4,
}
