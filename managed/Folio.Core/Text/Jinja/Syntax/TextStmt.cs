namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>Literal template text.</summary>
internal sealed record TextStmt(SourcePosition Position, string Text) : Stmt(Position);
