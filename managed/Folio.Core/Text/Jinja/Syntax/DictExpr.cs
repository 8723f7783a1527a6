namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A dict literal <c>{k: v, ...}</c>, entries in source order.</summary>
internal sealed record DictExpr(SourcePosition Position, List<KeyValuePair<Expr, Expr>> Entries) : Expr(Position);
