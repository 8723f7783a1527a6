namespace Folio.Core.Text.Jinja;

/// <summary>How a block ended: normally, or by <c>{% break %}</c> / <c>{% continue %}</c> that the enclosing loop consumes.</summary>
internal enum LoopSignal
{
    None,
    Break,
    Continue,
}
