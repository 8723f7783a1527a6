using System.Text.Json;

namespace Folio.Core.Models;

/// <summary>
/// Reads a SentencePiece-style tokenizer.json (BPE model, byte fallback, the Llama-2 Prepend/Replace normalizer
/// or a Metaspace pre-tokenizer, and a Replace/ByteFallback/Fuse/Strip/Metaspace decoder) into a
/// <see cref="SentencePieceBpe"/>. Anything it does not implement exactly is refused, naming the field.
/// </summary>
internal static class SentencePieceBpeJson
{
    public static SentencePieceBpe Load(string path, JsonElement root, JsonElement model)
    {
        ModelFormatException Bad(string field, string what) => new($"{path}: field '{field}' {what}");

        foreach (string field in (string[])["continuing_subword_prefix", "end_of_word_suffix", "dropout"])
            if (model.TryGetProperty(field, out var f) && f.ValueKind != JsonValueKind.Null)
                throw Bad($"model.{field}", "is not supported (must be null)");
        if (model.TryGetProperty("ignore_merges", out var ig) && ig.ValueKind == JsonValueKind.True)
            throw Bad("model.ignore_merges", "true is not supported");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!model.TryGetProperty("vocab", out var v) || v.ValueKind != JsonValueKind.Object)
            throw Bad("model.vocab", "is missing");
        foreach (var entry in v.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw Bad($"model.vocab.{entry.Name}", "must be a non-negative integer id");
            vocab[entry.Name] = id;
        }

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var m) && m.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var merge in m.EnumerateArray())
            {
                if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                    && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
                    merges.Add((merge[0].GetString()!, merge[1].GetString()!));   // tokenizers ≥ 0.20 writes pairs
                else if (merge.ValueKind == JsonValueKind.String && merge.GetString()!.Split(' ') is [var a, var b])
                    merges.Add((a, b));
                else
                    throw Bad($"model.merges[{i}]", "must be a pair of tokens");
                i++;
            }
        }

        bool byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
        bool fuseUnk = model.TryGetProperty("fuse_unk", out var fu) && fu.ValueKind == JsonValueKind.True;
        string? unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;

        var added = new List<(string, int)>();
        if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var a in addedJson.EnumerateArray())
            {
                if (!a.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String
                    || !a.TryGetProperty("id", out var idJson) || !idJson.TryGetInt32(out int id))
                    throw Bad($"added_tokens[{i}]", "needs a string 'content' and an integer 'id'");
                foreach (string flag in (string[])["normalized", "lstrip", "rstrip", "single_word"])
                    if (a.TryGetProperty(flag, out var f) && f.ValueKind == JsonValueKind.True)
                        throw Bad($"added_tokens[{i}].{flag}", "true is not supported");
                added.Add((c.GetString()!, id));
                i++;
            }
        }

        var normalizer = new List<SpmNormalization.Step>();
        if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind != JsonValueKind.Null)
            foreach (var (step, field) in Flatten(norm, "normalizer", "normalizers"))
                normalizer.Add(TypeOf(step) switch
                {
                    "Prepend" => SpmNormalization.Step.Prepend(Str(step, "prepend", field)),
                    "Replace" => SpmNormalization.Step.Replace(Pattern(step, field), Str(step, "content", field)),
                    var t => throw Bad(field, $"type '{t}' is not supported (only Prepend and Replace)"),
                });

        SpmNormalization.MetaspaceOptions? metaspace = null;
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind != JsonValueKind.Null)
        {
            if (TypeOf(pre) != "Metaspace")
                throw Bad("pre_tokenizer", $"type '{TypeOf(pre)}' is not supported for a SentencePiece-style model (only Metaspace or none)");
            bool split = !pre.TryGetProperty("split", out var sp) || sp.ValueKind != JsonValueKind.False;
            metaspace = new(Replacement(pre, "pre_tokenizer"), Scheme(pre, "pre_tokenizer"), split);
        }

        var decoder = new List<SpmDecoder.Step>();
        if (root.TryGetProperty("decoder", out var dec) && dec.ValueKind != JsonValueKind.Null)
            foreach (var (step, field) in Flatten(dec, "decoder", "decoders"))
                decoder.Add(TypeOf(step) switch
                {
                    "Replace" => new SpmDecoder.Replace(Pattern(step, field), Str(step, "content", field)),
                    "ByteFallback" => new SpmDecoder.ByteFallback(),
                    "Fuse" => new SpmDecoder.Fuse(),
                    "Strip" => new SpmDecoder.Strip(Char(step, "content", field), Int(step, "start", field), Int(step, "stop", field)),
                    "Metaspace" => new SpmDecoder.Metaspace(Replacement(step, field), Scheme(step, field) != SpmNormalization.PrependScheme.Never),
                    var t => throw Bad(field, $"type '{t}' is not supported (only Replace, ByteFallback, Fuse, Strip, Metaspace)"),
                });
        else
            throw Bad("decoder", "is missing (a SentencePiece-style model needs one)");

        return new SentencePieceBpe(vocab, merges, byteFallback, unk, fuseUnk, added, new SpmNormalization(normalizer, metaspace),
            new SpmDecoder(decoder), path);

        string? TypeOf(JsonElement e) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) ? t.GetString() : null;

        IEnumerable<(JsonElement, string)> Flatten(JsonElement e, string field, string listName)
        {
            if (TypeOf(e) != "Sequence")
                return [(e, field)];
            if (!e.TryGetProperty(listName, out var list) || list.ValueKind != JsonValueKind.Array)
                throw Bad($"{field}.{listName}", "is missing");
            return list.EnumerateArray().Select((x, i) => (x, $"{field}.{listName}[{i}]")).ToList();
        }

        string Str(JsonElement e, string name, string field) =>
            e.TryGetProperty(name, out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : throw Bad($"{field}.{name}", "must be a string");

        char Char(JsonElement e, string name, string field) =>
            Str(e, name, field) is { Length: 1 } s ? s[0] : throw Bad($"{field}.{name}", "must be one character");

        int Int(JsonElement e, string name, string field) =>
            e.TryGetProperty(name, out var s) && s.TryGetInt32(out int n) && n >= 0 ? n : throw Bad($"{field}.{name}", "must be a non-negative integer");

        string Pattern(JsonElement e, string field) =>
            e.TryGetProperty("pattern", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("String", out var s)
                && s.ValueKind == JsonValueKind.String && s.GetString()!.Length > 0
                ? s.GetString()!
                : throw Bad($"{field}.pattern", "must be {\"String\": \"...\"} (regex patterns are not supported)");

        char Replacement(JsonElement e, string field) => Char(e, "replacement", field);

        SpmNormalization.PrependScheme Scheme(JsonElement e, string field)
        {
            if (e.TryGetProperty("prepend_scheme", out var s))
                return s.GetString() switch
                {
                    "always" => SpmNormalization.PrependScheme.Always,
                    "first" => SpmNormalization.PrependScheme.First,
                    "never" => SpmNormalization.PrependScheme.Never,
                    var x => throw Bad($"{field}.prepend_scheme", $"'{x}' is not one of always, first, never"),
                };
            // Files written before tokenizers 0.19 say add_prefix_space instead.
            return e.TryGetProperty("add_prefix_space", out var a) && a.ValueKind == JsonValueKind.False
                ? SpmNormalization.PrependScheme.Never
                : SpmNormalization.PrependScheme.Always;
        }
    }
}
