namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_status</c> in folio.h (checked by the drift test).</summary>
public enum FolioStatus
{
    Ok = 0,
    InvalidArgument = -1,
    InvalidHandle = -2,
    StructSize = -3,
    InvalidUtf8 = -4,
    TokenOutOfRange = -5,
    BufferTooSmall = -6,
    NotFound = -7,
    ModelLoad = -8,
    RequestRejected = -9,
    InvalidState = -10,
    Unsupported = -11,
    Internal = -100,
}
