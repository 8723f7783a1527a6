namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A number, string, true/false/none literal.</summary>
internal sealed record LiteralExpr(SourcePosition Position, JinjaValue Value) : Expr(Position);
