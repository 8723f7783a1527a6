namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>operand is [not] name(args)</c>.</summary>
internal sealed record TestExpr(SourcePosition Position, Expr Operand, string Name, bool Negated, List<Argument> Arguments) : Expr(Position);
