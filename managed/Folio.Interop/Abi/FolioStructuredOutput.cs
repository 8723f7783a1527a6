namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_structured_output</c> in folio.h (ABI 1.3).</summary>
public enum FolioStructuredOutput
{
    None = 0,
    Json = 1,
    Regex = 2,
    Choice = 3,
    Grammar = 4,
    JsonObject = 5,
}
