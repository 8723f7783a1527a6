namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A variable reference.</summary>
internal sealed record NameExpr(SourcePosition Position, string Name) : Expr(Position);
