namespace Folio.Structured;

/// <summary>
/// A grammar before compilation: named rules whose bodies are expressions that may reference rules by name
/// (<see cref="RxKind.Ref"/>), and the start rule. Every input format is translated to this.
/// </summary>
public sealed class GrammarDefinition
{
    private readonly Dictionary<string, RxNode> _rules = new(StringComparer.Ordinal);

    public GrammarDefinition(string startRule) => StartRule = startRule;

    public string StartRule { get; }
    public IReadOnlyDictionary<string, RxNode> Rules => _rules;

    public void Add(string name, RxNode body) => _rules[name] = body;
    public bool Contains(string name) => _rules.ContainsKey(name);
}
