namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>operand | name(args)</c>; <see cref="Arguments"/> is empty without parentheses.</summary>
internal sealed record FilterExpr(SourcePosition Position, Expr Operand, string Name, List<Argument> Arguments) : Expr(Position);
