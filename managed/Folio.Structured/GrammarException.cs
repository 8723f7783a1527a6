namespace Folio.Structured;

/// <summary>
/// A grammar, schema, regex or choice that cannot be compiled: malformed input, an unsupported keyword (the message
/// names it and its JSON path), or a language no string belongs to. Raised at compile time only, never while matching.
/// </summary>
public sealed class GrammarException(string message) : Exception(message);
