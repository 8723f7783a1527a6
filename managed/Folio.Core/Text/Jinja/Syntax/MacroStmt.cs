namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>{% macro name(params) %}</c>; <see cref="Uses"/> lists which of caller/kwargs/varargs the body reads.</summary>
internal sealed record MacroStmt(SourcePosition Position, string Name, List<Parameter> Parameters, List<Stmt> Body, IReadOnlySet<string> Uses) : Stmt(Position);
