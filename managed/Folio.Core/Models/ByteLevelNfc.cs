using System.Text.Json;
using System.Text.RegularExpressions;
using Folio.Core.Text;

namespace Folio.Core.Models;

/// <summary>
/// The <c>NFC</c> normalizer of a byte-level tokenizer.json (Qwen2's), applied where Hugging Face tokenizers applies
/// it: added tokens with <c>normalized: false</c> are cut out of the raw text first; each piece between them is
/// normalized (<see cref="UnicodeNfc.NormalizeAsHfTokenizers"/>: NFC with tokenizers' older Unicode data) and then
/// encoded, and the added tokens with <c>normalized: true</c> are cut out of the normalized text by the pre-tokenizer. So "&lt;|endoftext|&gt;" + U+0338 keeps its token when the
/// token is not normalized, and loses it (">" + U+0338 composes to "≯") when it is.
/// </summary>
internal sealed class ByteLevelNfc
{
    private readonly Regex? _raw;
    private readonly Dictionary<string, int> _rawIds;

    private ByteLevelNfc(Dictionary<string, int> rawIds)
    {
        _rawIds = rawIds;
        if (rawIds.Count > 0)
            // Longest first: leftmost-longest, as tokenizers matches added tokens.
            _raw = new Regex(string.Join("|", rawIds.Keys.OrderByDescending(k => k.Length).ThenBy(k => k, StringComparer.Ordinal)
                .Select(Regex.Escape)), RegexOptions.CultureInvariant);
    }

    /// <summary>
    /// Null when the file has no normalizer (absent, null, or an empty Sequence); the NFC step for <c>NFC</c> or a
    /// Sequence of only <c>NFC</c>s. Any other normalizer is refused, naming the field. <paramref name="special"/>:
    /// every added token; the result keeps those with normalized false, and the caller hands the pre-tokenizer only
    /// <see cref="NormalizedTokens"/>.
    /// </summary>
    public static ByteLevelNfc? Load(string path, JsonElement root, IReadOnlyDictionary<string, int> special)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null)
            return null;
        int steps = 0;
        if (TypeOf(n) == "Sequence")
        {
            if (!n.TryGetProperty("normalizers", out var list) || list.ValueKind != JsonValueKind.Array)
                throw new ModelFormatException($"{path}: field 'normalizer.normalizers' is missing");
            foreach (var step in list.EnumerateArray())   // NFC twice is NFC once
                CheckNfc(path, step, $"normalizer.normalizers[{steps++}]");
        }
        else
        {
            CheckNfc(path, n, "normalizer");
            steps = 1;
        }
        if (steps == 0)
            return null;   // an empty Sequence does nothing

        var raw = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var a in added.EnumerateArray())
            {
                // tokenizers requires the flag in every added token; with a normalizer it decides where the token is found.
                if (!a.TryGetProperty("normalized", out var flag) || flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    throw new ModelFormatException($"{path}: field 'added_tokens[{i}].normalized' must be true or false");
                string content = a.GetProperty("content").GetString()!;
                if (flag.ValueKind == JsonValueKind.False && special.TryGetValue(content, out int id))
                    raw[content] = id;
                i++;
            }
        }
        return new ByteLevelNfc(raw);

        static string? TypeOf(JsonElement e) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

        static void CheckNfc(string path, JsonElement step, string field)
        {
            if (TypeOf(step) != "NFC")
                throw new ModelFormatException(
                    $"{path}: field '{field}' type '{TypeOf(step) ?? "?"}' is not supported for byte-level BPE (only NFC, alone or in a Sequence)");
        }
    }

    /// <summary>The added tokens the pre-tokenizer cuts out of normalized text: those with normalized true.</summary>
    public Dictionary<string, int> NormalizedTokens(IReadOnlyDictionary<string, int> special) =>
        special.Where(s => !_rawIds.ContainsKey(s.Key)).ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);

    /// <summary>Cuts the raw added tokens out, normalizes each piece between them and hands it to
    /// <paramref name="encodeNormalized"/>, appending to <paramref name="ids"/>.</summary>
    public void Encode(string text, Action<string, List<int>> encodeNormalized, List<int> ids)
    {
        int at = 0;
        if (_raw is not null)
            for (var m = _raw.Match(text); m.Success; m = m.NextMatch())
            {
                if (m.Index > at)
                    encodeNormalized(UnicodeNfc.NormalizeAsHfTokenizers(text[at..m.Index]), ids);
                ids.Add(_rawIds[m.Value]);
                at = m.Index + m.Length;
            }
        if (at < text.Length)
            encodeNormalized(UnicodeNfc.NormalizeAsHfTokenizers(text[at..]), ids);
    }
}
