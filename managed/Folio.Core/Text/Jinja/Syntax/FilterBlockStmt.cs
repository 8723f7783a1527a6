namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>{% filter name(args) %}body{% endfilter %}</c>: the rendered body goes through the filter.</summary>
internal sealed record FilterBlockStmt(SourcePosition Position, string Filter, List<Argument> Arguments, List<Stmt> Body) : Stmt(Position);
