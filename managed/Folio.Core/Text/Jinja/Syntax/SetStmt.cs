namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>{% set target = value %}</c> or the block form (<see cref="Value"/> null, <see cref="Body"/> rendered); the target is a name, a tuple of names, or <c>ns.attr</c>.</summary>
internal sealed record SetStmt(SourcePosition Position, Expr Target, Expr? Value, List<Stmt>? Body) : Stmt(Position);
