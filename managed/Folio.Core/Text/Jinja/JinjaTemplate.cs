using Folio.Core.Text.Jinja.Syntax;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// A parsed Jinja template, rendered as Hugging Face renders chat templates (<c>trim_blocks</c> and
/// <c>lstrip_blocks</c> on, one trailing newline dropped). Parsing and rendering throw
/// <see cref="TemplateException"/> with the line:column of the offending construct. A parsed template is
/// immutable and may render concurrently.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly TemplateBody _body;

    private JinjaTemplate(string source, TemplateBody body)
    {
        Source = source;
        _body = body;
    }

    public string Source { get; }

    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            return new JinjaTemplate(source, Parser.Parse(source));
        }
        catch (InsufficientExecutionStackException)
        {
            throw new TemplateException("the template nests too deeply", new SourcePosition(1, 1));
        }
    }

    /// <summary>Renders with <paramref name="context"/>'s variables (over the globals range, namespace, raise_exception, strftime_now).</summary>
    public string Render(IEnumerable<KeyValuePair<string, JinjaValue>> context) => Render(context, () => DateTime.Now);

    /// <summary>As <see cref="Render(IEnumerable{KeyValuePair{string, JinjaValue}})"/>, with the clock <c>strftime_now</c> reads.</summary>
    public string Render(IEnumerable<KeyValuePair<string, JinjaValue>> context, Func<DateTime> now)
    {
        var globals = new Scope(null);
        Globals.Install(globals, now);
        var scope = new Scope(globals);
        foreach (var (k, v) in context)
            scope.Set(k, v);
        try
        {
            return new Interpreter().Render(_body, scope);
        }
        catch (InsufficientExecutionStackException)
        {
            throw new TemplateException("the template nests too deeply", new SourcePosition(1, 1));
        }
    }
}
