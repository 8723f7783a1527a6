namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>{% call(params) macro(args) %}body{% endcall %}</c>: the body becomes the macro's <c>caller()</c>.</summary>
internal sealed record CallBlockStmt(SourcePosition Position, CallExpr Call, List<Parameter> CallerParameters, List<Stmt> Body, IReadOnlySet<string> Uses) : Stmt(Position);
