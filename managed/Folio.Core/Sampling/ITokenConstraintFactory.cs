namespace Folio.Core.Sampling;

/// <summary>
/// What an engine needs from the tokenizer's side to enforce token constraints: compiling a request's
/// <see cref="StructuredOutputs"/> (cached by text: one schema for many requests compiles once) and tokenizing its
/// <c>bad_words</c>. Given to the engine through <c>EngineOptions.TokenConstraints</c>; Folio.Structured implements it
/// over a <c>TextTokenizer</c>. Must be thread-safe (requests may be added from any thread).
/// </summary>
public interface ITokenConstraintFactory
{
    /// <summary>Token ids the tokenizer can produce: constraints and masks cover [0, VocabularySize).</summary>
    int VocabularySize { get; }

    /// <summary>64-bit words of a mask over the vocabulary.</summary>
    int MaskWords => (VocabularySize + 63) / 64;

    /// <summary>A fresh constraint (no token accepted yet) for <paramref name="spec"/>. Bad input — a malformed
    /// schema, an unsupported keyword (named, with its JSON path), an invalid regex, an unknown grammar rule, a
    /// grammar no string satisfies — throws an <see cref="ArgumentException"/> whose parameter is
    /// <c>StructuredOutputs</c>.</summary>
    ITokenConstraint Create(StructuredOutputs spec);

    /// <summary>The ids of <paramref name="text"/>, without special tokens (for <c>bad_words</c>).</summary>
    IReadOnlyList<int> Encode(string text);
}
