namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>{% for targets in iterable [if filter] %}...{% else %}...{% endfor %}</c>; several targets unpack each item.</summary>
internal sealed record ForStmt(SourcePosition Position, List<string> Targets, bool Unpack, Expr Iterable, Expr? Filter, List<Stmt> Body, List<Stmt> Else) : Stmt(Position);
