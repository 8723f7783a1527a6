namespace Folio.Core.Text.Jinja;

/// <summary>
/// A rendering error raised below the interpreter (a filter, a method, an operator) where the template
/// position is not known; the interpreter turns it into a <see cref="TemplateException"/> at the node that
/// evaluated it.
/// </summary>
internal sealed class JinjaError(string message) : Exception(message);
