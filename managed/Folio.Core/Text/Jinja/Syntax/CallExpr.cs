namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>callee(args)</c>.</summary>
internal sealed record CallExpr(SourcePosition Position, Expr Callee, List<Argument> Arguments) : Expr(Position);
