namespace Folio.Core.Text.Jinja;

/// <summary>
/// A template that cannot be parsed or rendered: a syntax error, an unsupported construct, a type error, or
/// <c>raise_exception(msg)</c>. The message starts with the position (line:column) in the template's source,
/// so a template is never rendered into wrong text silently.
/// </summary>
public sealed class TemplateException : Exception
{
    public TemplateException(string message, SourcePosition position)
        : base($"{position}: {message}")
    {
        Position = position;
        Detail = message;
    }

    public SourcePosition Position { get; }

    /// <summary>The message without the position.</summary>
    public string Detail { get; }

    /// <summary>True when the template itself called <c>raise_exception</c>.</summary>
    public bool RaisedByTemplate { get; init; }
}
