namespace Folio.Server;

/// <summary>The model's text ↔ token ids, as the server needs them (prompts, /tokenize, /detokenize).</summary>
public interface IServedTokenizer
{
    /// <summary>Token ids of <paramref name="text"/>; <paramref name="addSpecialTokens"/> as Hugging Face's
    /// add_special_tokens. Throws <see cref="ArgumentException"/> for text the tokenizer cannot encode.</summary>
    int[] Encode(string text, bool addSpecialTokens);

    string Decode(ReadOnlySpan<int> ids);
}
