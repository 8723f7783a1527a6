namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>{{ expr }}</c>.</summary>
internal sealed record OutputStmt(SourcePosition Position, Expr Value) : Stmt(Position);
