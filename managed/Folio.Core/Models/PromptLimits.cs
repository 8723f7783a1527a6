namespace Folio.Core.Models;

/// <summary>Checks a request against the model before it reaches the engine, so a bad request is refused
/// with a message and never disturbs the requests already being served.</summary>
public static class PromptLimits
{
    /// <summary>Null when the request fits; otherwise the reason, naming the config field.</summary>
    public static string? Check(ModelConfig config, ReadOnlySpan<int> promptTokenIds, int maxTokens)
    {
        if (promptTokenIds.IsEmpty)
            return "the prompt is empty (0 tokens)";
        foreach (int id in promptTokenIds)
            if ((uint)id >= (uint)config.VocabSize)
                return $"prompt token id {id} is outside the vocabulary (vocab_size {config.VocabSize})";
        long total = (long)promptTokenIds.Length + maxTokens;
        if (total > config.MaxPositionEmbeddings)
            return $"prompt of {promptTokenIds.Length} tokens + max_tokens {maxTokens} = {total} positions exceeds max_position_embeddings ({config.MaxPositionEmbeddings}) of config.json";
        return null;
    }
}
