namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>One <c>if</c>/<c>elif</c> condition and its body.</summary>
internal sealed record IfBranch(Expr Condition, List<Stmt> Body);
