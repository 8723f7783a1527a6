namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>then if cond else other</c>; without <c>else</c> (<see cref="Else"/> null) a false condition gives undefined.</summary>
internal sealed record CondExpr(SourcePosition Position, Expr Condition, Expr Then, Expr? Else) : Expr(Position);
