namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>An expression: evaluates to a <see cref="JinjaValue"/>.</summary>
internal abstract record Expr(SourcePosition Position) : Node(Position);
