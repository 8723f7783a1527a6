namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>obj[start:stop:step]</c>; an omitted part is null.</summary>
internal sealed record SliceExpr(SourcePosition Position, Expr Object, Expr? Start, Expr? Stop, Expr? Step) : Expr(Position);
