using System.Globalization;
using System.Text.Json;

namespace Folio.Core.Models;

/// <summary>
/// Typed reads of the optional fields of a small Hugging Face JSON file (generation_config.json,
/// tokenizer_config.json). An absent field or a JSON null is "not set"; a value of the wrong type or range is a
/// <see cref="ModelFormatException"/> naming the file and the field.
/// </summary>
internal sealed class JsonFields
{
    private readonly JsonElement _root;
    private readonly string _source;

    private JsonFields(JsonElement root, string source)
    {
        _root = root;
        _source = source;
    }

    /// <summary>Parses <paramref name="json"/> (an object expected) and hands its fields to <paramref name="read"/>.</summary>
    public static T Read<T>(string json, string source, Func<JsonFields, T> read)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{source}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{source}: expected a JSON object, found {Kind(doc.RootElement)}");
            return read(new JsonFields(doc.RootElement, source));
        }
    }

    /// <summary>The file's text, or null when it does not exist (these files are optional).</summary>
    public static string? ReadOptionalFile(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot read ({e.Message})");
        }
    }

    private JsonElement? Get(string field) =>
        _root.TryGetProperty(field, out var e) && e.ValueKind != JsonValueKind.Null ? e : null;

    public bool? Bool(string field) => Get(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { } e => Wrong<bool?>(field, "true or false", e),
    };

    public int? Int(string field)
    {
        if (Get(field) is not { } e)
            return null;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : Wrong<int?>(field, "an integer", e);
    }

    public double? Number(string field)
    {
        if (Get(field) is not { } e)
            return null;
        return e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double v) && double.IsFinite(v) ? v : Wrong<double?>(field, "a number", e);
    }

    /// <summary>An integer or a list of integers (HF writes either for <c>eos_token_id</c>); empty when unset.</summary>
    public int[] IntOrList(string field)
    {
        if (Get(field) is not { } e)
            return [];
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int one))
            return [one];
        if (e.ValueKind != JsonValueKind.Array)
            return Wrong<int[]>(field, "an integer or a list of integers", e);
        var ids = new List<int>();
        foreach (var item in e.EnumerateArray())
            ids.Add(item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int id) ? id : Wrong<int>(field, "an integer or a list of integers", e));
        return [.. ids];
    }

    /// <summary>A special token: a string, or the older <c>{"__type": "AddedToken", "content": "…"}</c> object.</summary>
    public string? Token(string field)
    {
        if (Get(field) is not { } e)
            return null;
        if (e.ValueKind == JsonValueKind.String)
            return e.GetString();
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
            return c.GetString();
        return Wrong<string?>(field, "a string or an object with a string 'content'", e);
    }

    /// <summary>A positive whole number that may be written as a float (<c>1e30</c>) or exceed int: null above int.MaxValue.</summary>
    public int? Length(string field)
    {
        if (Get(field) is not { } e)
            return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v) || v != Math.Floor(v) || v <= 0)
            return Wrong<int?>(field, "a positive integer", e);
        return v > int.MaxValue ? null : (int)v;
    }

    public T Fail<T>(string field, string what) => throw new ModelFormatException($"{_source}: field '{field}' {what}");

    private T Wrong<T>(string field, string expected, JsonElement found) =>
        Fail<T>(field, $"must be {expected}, is {Kind(found)} {Shorten(found.GetRawText())}");

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "the number",
        JsonValueKind.True or JsonValueKind.False => "the boolean",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => e.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
    };

    private static string Shorten(string raw) => raw.Length <= 40 ? raw : raw[..37] + "...";
}
