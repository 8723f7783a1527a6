namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>{% break %}</c> (<see cref="IsBreak"/>) or <c>{% continue %}</c>.</summary>
internal sealed record LoopControlStmt(SourcePosition Position, bool IsBreak) : Stmt(Position);
