namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A binary operator: arithmetic, <c>~</c>, comparisons, <c>in</c>/<c>not in</c>, <c>and</c>/<c>or</c>.</summary>
internal sealed record BinaryExpr(SourcePosition Position, string Operator, Expr Left, Expr Right) : Expr(Position);
