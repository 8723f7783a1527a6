using Folio.Core.Models;
using Folio.Core.Sampling;

namespace Folio.Structured;

/// <summary>
/// Core's <see cref="ITokenConstraintFactory"/> for one model: structured outputs compiled by a
/// <see cref="GrammarCompiler"/> over the tokenizer's byte vocabulary (cached by text), bad words tokenized by the
/// tokenizer. Hosts (CLI, C ABI, server) give one to the engine through <c>EngineOptions.TokenConstraints</c>.
/// Thread-safe.
/// </summary>
public sealed class GrammarConstraintFactory : ITokenConstraintFactory
{
    private readonly TextTokenizer _tokenizer;
    private readonly Lazy<GrammarCompiler> _compiler;

    /// <param name="eosTokenId">The engine's end-of-sequence id: allowed only where the output is complete.</param>
    public GrammarConstraintFactory(TextTokenizer tokenizer, int? eosTokenId, JsonSchemaOptions? jsonOptions = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        JsonOptions = jsonOptions;
        // Built at the first structured request: an engine that never gets one pays nothing for the token trie.
        _compiler = new Lazy<GrammarCompiler>(() =>
        {
            var bytes = new byte[]?[tokenizer.VocabularySize];
            for (int id = 0; id < bytes.Length; id++)
                bytes[id] = id == eosTokenId ? null : tokenizer.TokenBytes(id);
            return new GrammarCompiler(new TokenVocabulary(bytes, eosTokenId));
        });
    }

    public GrammarCompiler Compiler => _compiler.Value;

    /// <summary>JSON layout of json and json_object outputs (null = compact with a space after ':' and ',').</summary>
    public JsonSchemaOptions? JsonOptions { get; }

    public int VocabularySize => _tokenizer.VocabularySize;

    public ITokenConstraint Create(StructuredOutputs spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var kind = spec.Kind;
        try
        {
            var grammar = kind switch
            {
                StructuredOutputKind.Json => Compiler.CompileJsonSchema(spec.Json!, JsonOptions),
                StructuredOutputKind.Regex => Compiler.CompileRegex(spec.Regex!),
                StructuredOutputKind.Choice => Compiler.CompileChoice(spec.Choice!),
                StructuredOutputKind.Grammar => Compiler.CompileGbnf(spec.Grammar!),
                _ => Compiler.CompileJsonObject(anyValue: false, JsonOptions),
            };
            return new GrammarConstraint(grammar.CreateMatcher(), Compiler.Vocabulary, _tokenizer.Encode);
        }
        catch (GrammarException e)
        {
            throw new ArgumentException($"structured_outputs.{FieldName(kind)}: {e.Message}", nameof(SamplingParams.StructuredOutputs), e);
        }
    }

    public IReadOnlyList<int> Encode(string text) => _tokenizer.Encode(text);

    private static string FieldName(StructuredOutputKind kind) => kind switch
    {
        StructuredOutputKind.Json => "json",
        StructuredOutputKind.Regex => "regex",
        StructuredOutputKind.Choice => "choice",
        StructuredOutputKind.Grammar => "grammar",
        _ => "json_object",
    };
}
