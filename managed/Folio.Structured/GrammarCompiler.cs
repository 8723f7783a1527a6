using System.Collections.Concurrent;

namespace Folio.Structured;

/// <summary>
/// Compiles structured-output requests for one vocabulary: JSON Schema, any JSON (<c>json_object</c>), regular
/// expressions, choices among strings and GBNF grammars. Results are cached by kind and text, so a server with
/// one schema for many requests compiles it once. Thread-safe; errors are <see cref="GrammarException"/>s.
/// </summary>
public sealed class GrammarCompiler
{
    /// <summary>Compiled grammars kept; past this the cache starts over (a bound, not a policy).</summary>
    public const int MaxCachedGrammars = 512;

    private readonly ConcurrentDictionary<string, Lazy<CompiledGrammar>> _cache = new(StringComparer.Ordinal);
    private readonly DfaCache _dfas;
    private readonly TerminalTokenCache _shared;

    public GrammarCompiler(TokenVocabulary vocabulary, long sharedCacheBytes = 1L << 30, long dfaCacheBytes = 256L << 20)
    {
        Vocabulary = vocabulary;
        _shared = new TerminalTokenCache(vocabulary.Trie, sharedCacheBytes);
        _dfas = new DfaCache(dfaCacheBytes);
    }

    /// <summary>Bytes held by the shared walks (against <c>sharedCacheBytes</c>) and by the automaton cache (against <c>dfaCacheBytes</c>).</summary>
    public (long SharedWalks, long Automata) CacheBytes => (_shared.Bytes, _dfas.Bytes);

    public TokenVocabulary Vocabulary { get; }

    /// <summary>Token-trie walks built so far (each residual's first visit: the mask cost that is not a cache hit) and their summed time.</summary>
    public (long Walks, TimeSpan Time) WalkStats => _shared.WalkStats;

    /// <summary>States too large to sign that reused a shared bounded walk, shared bounded walks built, and states
    /// walked whole because their bounded signature was new (see <see cref="BoundedSignature"/>).</summary>
    public (long Reused, long Built, long FirstVisits) BoundedWalkStats => _shared.BoundedStats;

    public CompiledGrammar CompileJsonSchema(string schema, JsonSchemaOptions? options = null) =>
        Cached("json:" + (options?.SpaceAfterSeparators == false ? "c:" : "s:") + schema, () => JsonSchemaConverter.Convert(schema, options));

    /// <summary>Any JSON object (OpenAI's <c>json_object</c> response format); <paramref name="anyValue"/> for any JSON value.</summary>
    public CompiledGrammar CompileJsonObject(bool anyValue = false, JsonSchemaOptions? options = null) =>
        Cached("jsonobj:" + anyValue + (options?.SpaceAfterSeparators == false ? "c" : "s"), () => JsonSchemaConverter.AnyJson(!anyValue, options));

    /// <summary>Text that fully matches <paramref name="pattern"/>.</summary>
    public CompiledGrammar CompileRegex(string pattern) => Cached("regex:" + pattern, () =>
    {
        var def = new GrammarDefinition("root");
        def.Add("root", RegexParser.ParseFullMatch(pattern));
        return def;
    });

    /// <summary>Exactly one of <paramref name="choices"/>.</summary>
    public CompiledGrammar CompileChoice(IReadOnlyList<string> choices)
    {
        if (choices.Count == 0) throw new GrammarException("choice: the list of choices is empty");
        return Cached("choice:" + string.Join("\u0000", choices), () =>
        {
            var def = new GrammarDefinition("root");
            def.Add("root", RxNode.Alt(choices.Select(RxNode.Literal)));
            return def;
        });
    }

    public CompiledGrammar CompileGbnf(string grammar) => Cached("gbnf:" + grammar, () => GbnfParser.Parse(grammar));

    /// <summary>Compiles a grammar built in code (not cached).</summary>
    public CompiledGrammar Compile(GrammarDefinition definition) => GrammarLowering.Lower(definition, Vocabulary, _shared, _dfas);

    private CompiledGrammar Cached(string key, Func<GrammarDefinition> build)
    {
        if (_cache.Count >= MaxCachedGrammars) _cache.Clear();
        var lazy = _cache.GetOrAdd(key, _ => new Lazy<CompiledGrammar>(() => Compile(build())));
        try
        {
            return lazy.Value;
        }
        catch (GrammarException)
        {
            _cache.TryRemove(key, out _);   // errors are cheap to recompute and should not pin memory
            throw;
        }
    }
}
