namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A macro or caller parameter with its optional default.</summary>
internal sealed record Parameter(string Name, Expr? Default);
