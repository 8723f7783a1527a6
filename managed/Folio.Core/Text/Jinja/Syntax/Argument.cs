namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>One argument of a call, filter or test: positional when <see cref="Name"/> is null.</summary>
internal sealed record Argument(string? Name, Expr Value);
