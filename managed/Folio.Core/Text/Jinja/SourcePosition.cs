namespace Folio.Core.Text.Jinja;

/// <summary>A place in a template's source text: 1-based line and column (columns count UTF-16 units).</summary>
public readonly record struct SourcePosition(int Line, int Column)
{
    public override string ToString() => $"{Line}:{Column}";
}
