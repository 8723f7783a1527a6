namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A parsed template: its top-level statements.</summary>
internal sealed record TemplateBody(List<Stmt> Statements);
