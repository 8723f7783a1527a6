using System.Text.Json;
using System.Text.RegularExpressions;

namespace Folio.Core.Models;

/// <summary>
/// Reads a byte-level BPE tokenizer.json (GPT-2 style, a ByteLevel pre-tokenizer; or Llama-3/Qwen2 style, a regex
/// Split + ByteLevel; no normalizer, or Qwen2's NFC) into a <see cref="ByteLevelBpe"/>; null when the pre-tokenizer
/// is not byte-level (a SentencePiece-style file). Anything it does not implement exactly is refused, naming the
/// field.
/// </summary>
internal static partial class ByteLevelBpeJson
{
    public static ByteLevelBpe? TryLoad(string path, JsonElement root, JsonElement model)
    {
        ModelFormatException Bad(string field, string what) => new($"{path}: field '{field}' {what}");

        var split = ByteLevelSplit(path, root);
        if (split is null)
            return null;
        // Empty strings are what tokenizers writes for "none" in GPT-2's file.
        foreach (string field in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
            if (model.TryGetProperty(field, out var f) && f.ValueKind != JsonValueKind.Null && f.GetString() is not "")
                throw Bad($"model.{field}", "is not supported (must be null or empty)");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind != JsonValueKind.Null)
            throw Bad("model.dropout", "is not supported (must be null)");
        if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
            throw Bad("model.byte_fallback", "true is not supported for byte-level BPE");
        bool ignoreMerges = model.TryGetProperty("ignore_merges", out var ig) && ig.ValueKind == JsonValueKind.True;

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!model.TryGetProperty("vocab", out var v) || v.ValueKind != JsonValueKind.Object)
            throw Bad("model.vocab", "is missing");
        foreach (var entry in v.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw Bad($"model.vocab.{entry.Name}", "must be a non-negative integer id");
            vocab[entry.Name] = id;
        }

        var merges = new BpeMerges();
        if (model.TryGetProperty("merges", out var m) && m.ValueKind == JsonValueKind.Array)
        {
            int rank = 0;
            foreach (var merge in m.EnumerateArray())
            {
                (string, string)? pair = merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                    && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String
                        ? (merge[0].GetString()!, merge[1].GetString()!)   // tokenizers ≥ 0.20 writes pairs
                    : merge.ValueKind == JsonValueKind.String && merge.GetString()!.Split(' ') is [var a, var b] ? (a, b)
                    : null;
                if (pair is not var (left, right))
                    throw Bad($"model.merges[{rank}]", "must be a pair of tokens");
                if (!vocab.TryGetValue(left, out int l) || !vocab.TryGetValue(right, out int r))
                    throw Bad($"model.merges[{rank}]", "names a token missing from 'model.vocab'");
                if (!vocab.TryGetValue(left + right, out int merged))
                    throw Bad($"model.merges[{rank}]", "the merged token is missing from 'model.vocab'");
                merges.TryAdd(l, r, rank, merged);
                rank++;
            }
        }

        var added = new List<(string, int)>();
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var a in addedJson.EnumerateArray())
            {
                if (!a.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String || c.GetString()!.Length == 0
                    || !a.TryGetProperty("id", out var idJson) || !idJson.TryGetInt32(out int id) || id < 0)
                    throw Bad($"added_tokens[{i}]", "needs a non-empty string 'content' and a non-negative integer 'id'");
                // These change where a token is found (whitespace around it, word boundaries); none of the
                // byte-level files in use sets them.
                foreach (string flag in (string[])["lstrip", "rstrip", "single_word"])
                    if (a.TryGetProperty(flag, out var f) && f.ValueKind == JsonValueKind.True)
                        throw Bad($"added_tokens[{i}].{flag}", "true is not supported");
                added.Add((c.GetString()!, id));
                special[c.GetString()!] = id;
                i++;
            }
        }
        var nfc = ByteLevelNfc.Load(path, root, special);
        var pre = new CodePointRegexPreTokenizer(split, nfc is null ? special : nfc.NormalizedTokens(special));
        return new ByteLevelBpe(vocab, merges, ignoreMerges, added, pre, nfc, path);
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
    internal const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    internal const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Llama3Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Llama3Split();

    [GeneratedRegex(Qwen2Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Qwen2Split();

    /// <summary>The ByteLevel pre-tokenizer's split (GPT-2's pattern), as Hugging Face tokenizers applies it.</summary>
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    internal static partial Regex Gpt2Split();
}
