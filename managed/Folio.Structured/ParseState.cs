namespace Folio.Structured;

/// <summary>The parser between two bytes: every live thread, and whether the input so far is a complete sentence.</summary>
internal sealed class ParseState(ParseConfig[] configs, bool canFinish)
{
    public ParseConfig[] Configs { get; } = configs;
    public bool CanFinish { get; } = canFinish;
}
