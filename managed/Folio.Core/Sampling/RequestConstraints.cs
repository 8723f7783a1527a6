namespace Folio.Core.Sampling;

/// <summary>
/// A request's token constraints in the form the sampler applies them, built once at admission from its
/// <see cref="SamplingParams"/>: the structured output's fresh constraint (each sequence clones it), the allowed
/// ids as a bit mask, the logit biases as two arrays, and the bad words as token sequences.
/// </summary>
internal sealed class RequestConstraints
{
    private RequestConstraints(ITokenConstraint? grammar, int maskWords, ulong[]? allowed, int[]? biasIds, float[]? biasValues, int[][]? badWords)
    {
        Grammar = grammar;
        MaskWords = maskWords;
        Allowed = allowed;
        BiasIds = biasIds;
        BiasValues = biasValues;
        BadWords = badWords;
    }

    /// <summary>The structured output before any token (never advanced: sequences advance their clones).</summary>
    public ITokenConstraint? Grammar { get; }

    /// <summary>Words of the grammar's masks.</summary>
    public int MaskWords { get; }

    /// <summary>allowed_token_ids as bits (ids past the mask are not allowed).</summary>
    public ulong[]? Allowed { get; }

    public int[]? BiasIds { get; }
    public float[]? BiasValues { get; }

    /// <summary>Each bad word's token ids (a word appears twice when its spelling after a space differs).</summary>
    public int[][]? BadWords { get; }

    /// <summary>
    /// Compiles <paramref name="p"/>'s constraints, or returns null when it sets none. Ids are checked against the
    /// factory's vocabulary when there is one. Throws an <see cref="ArgumentException"/> naming the field.
    /// </summary>
    public static RequestConstraints? Build(SamplingParams p, ITokenConstraintFactory? factory)
    {
        if (!p.HasTokenConstraints)
            return null;
        int vocab = factory?.VocabularySize ?? int.MaxValue;
        ITokenConstraint? grammar = null;
        if (p.StructuredOutputs is { } spec)
        {
            if (factory is null)
                throw Bad(nameof(SamplingParams.StructuredOutputs), "structured_outputs needs a tokenizer; this engine has none.");
            grammar = factory.Create(spec);
        }
        ulong[]? allowed = null;
        if (p.AllowedTokenIds is { } ids)
        {
            int max = 0;
            foreach (int id in ids)
            {
                CheckInVocabulary(nameof(SamplingParams.AllowedTokenIds), "allowed_token_ids", id, vocab);
                max = Math.Max(max, id);
            }
            allowed = new ulong[max / 64 + 1];
            foreach (int id in ids)
                allowed[id >> 6] |= 1UL << (id & 63);
        }
        int[]? biasIds = null;
        float[]? biasValues = null;
        if (p.LogitBias is { Count: > 0 } bias)
        {
            biasIds = new int[bias.Count];
            biasValues = new float[bias.Count];
            int i = 0;
            foreach (var (id, value) in bias)
            {
                CheckInVocabulary(nameof(SamplingParams.LogitBias), "logit_bias", id, vocab);
                biasIds[i] = id;
                biasValues[i++] = value;
            }
        }
        int[][]? badWords = null;
        if (p.BadWords is { Count: > 0 } words)
        {
            if (factory is null)
                throw Bad(nameof(SamplingParams.BadWords), "bad_words needs a tokenizer; this engine has none.");
            badWords = TokenizeBadWords(words, factory);
        }
        return new RequestConstraints(grammar, factory?.MaskWords ?? 0, allowed, biasIds, biasValues, badWords);
    }

    /// <summary>
    /// As vLLM: each word (leading spaces dropped) as written, and once more after a space when that spelling
    /// starts with a different token but has as many tokens (a word-start token of its own), so the word is
    /// banned both at the start of the text and after a space.
    /// </summary>
    private static int[][] TokenizeBadWords(IReadOnlyList<string> words, ITokenConstraintFactory factory)
    {
        var result = new List<int[]>();
        for (int w = 0; w < words.Count; w++)
        {
            string word = words[w].TrimStart();
            int[] plain = [.. factory.Encode(word)];
            int[] spaced = [.. factory.Encode(" " + word)];
            foreach (var ids in (ReadOnlySpan<int[]>)[plain, spaced])
            {
                foreach (int id in ids)
                {
                    if (id < 0 || id >= factory.VocabularySize)
                        throw Bad(nameof(SamplingParams.BadWords), $"bad_words[{w}] tokenizes to id {id}, outside the vocabulary.");
                }
            }
            if (plain.Length == 0)
                throw Bad(nameof(SamplingParams.BadWords), $"bad_words[{w}] tokenizes to no tokens.");
            result.Add(plain);
            if (spaced.Length == plain.Length && spaced[0] != plain[0])
                result.Add(spaced);
        }
        return [.. result];
    }

    private static void CheckInVocabulary(string field, string name, int id, int vocab)
    {
        if (id >= vocab)
            throw Bad(field, $"{name} token id {id} is outside the vocabulary ({vocab} tokens).");
    }

    private static ArgumentException Bad(string field, string message) => new(message, field);
}
