namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_log_level</c> in folio.h.</summary>
public enum FolioLogLevel
{
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    None = 5,
}
