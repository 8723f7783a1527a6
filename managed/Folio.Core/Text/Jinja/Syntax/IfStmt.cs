namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>{% if %}...{% elif %}...{% else %}...{% endif %}</c>.</summary>
internal sealed record IfStmt(SourcePosition Position, List<IfBranch> Branches, List<Stmt> Else) : Stmt(Position);
