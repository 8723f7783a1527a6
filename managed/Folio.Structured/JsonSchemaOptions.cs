namespace Folio.Structured;

/// <summary>How JSON text is laid out by grammars compiled from schemas.</summary>
public sealed record JsonSchemaOptions
{
    /// <summary>
    /// Allow one optional space after ':' and ',' (Python's json.dumps default layout) besides the compact
    /// form. No other whitespace is allowed, so a model cannot pad output forever.
    /// </summary>
    public bool SpaceAfterSeparators { get; init; } = true;
}
