namespace Folio.Core.Text.Jinja;

/// <summary>A callable value's body: macros, built-ins (<c>range</c>, <c>namespace</c>) and bound methods.</summary>
public delegate JinjaValue JinjaFunction(JinjaArguments arguments);
