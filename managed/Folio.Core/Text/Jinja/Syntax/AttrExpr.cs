namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>obj.name</c> (or <c>obj.0</c>: <see cref="Name"/> holds the digits).</summary>
internal sealed record AttrExpr(SourcePosition Position, Expr Object, string Name) : Expr(Position);
