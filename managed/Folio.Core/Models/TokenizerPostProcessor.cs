using System.Text.Json;

namespace Folio.Core.Models;

/// <summary>
/// What a tokenizer.json's <c>post_processor</c> does to one sequence's ids when special tokens are asked for
/// (Hugging Face's <c>add_special_tokens</c>): ids before and after it. <c>TemplateProcessing</c> (its
/// <c>single</c> template; Llama-3 puts &lt;|begin_of_text|&gt; first), <c>BertProcessing</c> ([CLS] $A [SEP]),
/// <c>RobertaProcessing</c> (&lt;s&gt; $A &lt;/s&gt;), <c>ByteLevel</c> (offsets only: no ids), and a
/// <c>Sequence</c> of these with at most one that adds ids. Any other type is refused, naming the field, so that
/// a prompt never silently lacks the tokens its model was trained with.
/// </summary>
public sealed class TokenizerPostProcessor
{
    public static TokenizerPostProcessor None { get; } = new([], []);

    private TokenizerPostProcessor(int[] prefix, int[] suffix)
    {
        Prefix = prefix;
        Suffix = suffix;
    }

    /// <summary>Ids before the text's own.</summary>
    public IReadOnlyList<int> Prefix { get; }

    /// <summary>Ids after the text's own.</summary>
    public IReadOnlyList<int> Suffix { get; }

    public static TokenizerPostProcessor Load(string path, JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind == JsonValueKind.Null)
            return None;
        return Parse(path, post, "post_processor", nested: false);
    }

    private static TokenizerPostProcessor Parse(string path, JsonElement e, string field, bool nested)
    {
        ModelFormatException Bad(string f, string what) => new($"{path}: field '{f}' {what}");
        string? type = e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString() : null;
        switch (type)
        {
            case "ByteLevel":
                return None;   // it trims offsets; ids are unchanged
            case "BertProcessing":
                return new([SpecialPair(e, "cls")], [SpecialPair(e, "sep")]);
            case "RobertaProcessing":
                return new([SpecialPair(e, "cls")], [SpecialPair(e, "sep")]);
            case "TemplateProcessing":
                return Template(e);
            case "Sequence" when !nested:
                if (!e.TryGetProperty("processors", out var list) || list.ValueKind != JsonValueKind.Array)
                    throw Bad($"{field}.processors", "is missing");
                var result = None;
                int i = 0;
                foreach (var step in list.EnumerateArray())
                {
                    var p = Parse(path, step, $"{field}.processors[{i++}]", nested: true);
                    if (p.Prefix.Count + p.Suffix.Count == 0)
                        continue;
                    if (result.Prefix.Count + result.Suffix.Count > 0)
                        throw Bad($"{field}.processors", "has more than one processor that adds tokens (not supported)");
                    result = p;
                }
                return result;
            default:
                throw Bad($"{field}.type", $"'{type ?? "?"}' is not supported (only TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)");
        }

        // ["[CLS]", 101]: the token and its id.
        int SpecialPair(JsonElement processor, string name) =>
            processor.TryGetProperty(name, out var pair) && pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2
                && pair[1].ValueKind == JsonValueKind.Number && pair[1].TryGetInt32(out int id) && id >= 0
                ? id
                : throw Bad($"{field}.{name}", "must be [token, id]");

        TokenizerPostProcessor Template(JsonElement processor)
        {
            if (!processor.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array)
                throw Bad($"{field}.single", "is missing");
            var prefix = new List<int>();
            var suffix = new List<int>();
            bool seenA = false;
            int i = 0;
            foreach (var piece in single.EnumerateArray())
            {
                string at = $"{field}.single[{i++}]";
                if (piece.ValueKind == JsonValueKind.Object && piece.TryGetProperty("Sequence", out var seq))
                {
                    if (seenA || !seq.TryGetProperty("id", out var sid) || sid.GetString() != "A")
                        throw Bad(at, "must be the one sequence $A of a single template");
                    seenA = true;
                }
                else if (piece.ValueKind == JsonValueKind.Object && piece.TryGetProperty("SpecialToken", out var st)
                    && st.TryGetProperty("id", out var name) && name.ValueKind == JsonValueKind.String)
                    (seenA ? suffix : prefix).AddRange(TemplateIds(processor, name.GetString()!, at));
                else
                    throw Bad(at, "must be {\"SpecialToken\": {...}} or {\"Sequence\": {...}}");
            }
            if (!seenA)
                throw Bad($"{field}.single", "has no $A sequence");
            return new([.. prefix], [.. suffix]);
        }

        int[] TemplateIds(JsonElement processor, string name, string at)
        {
            if (!processor.TryGetProperty("special_tokens", out var map) || map.ValueKind != JsonValueKind.Object
                || !map.TryGetProperty(name, out var token) || !token.TryGetProperty("ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
                throw Bad(at, $"names '{name}', which '{field}.special_tokens' does not define with its ids");
            return [.. ids.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int id) && id >= 0
                ? id : throw Bad($"{field}.special_tokens.{name}.ids", "must be non-negative integer ids"))];
        }
    }
}
