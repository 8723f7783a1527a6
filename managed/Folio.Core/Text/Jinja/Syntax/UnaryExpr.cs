namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>not x</c>, <c>-x</c>, <c>+x</c>.</summary>
internal sealed record UnaryExpr(SourcePosition Position, string Operator, Expr Operand) : Expr(Position);
