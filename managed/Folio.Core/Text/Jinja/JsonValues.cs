using System.Text.Json;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// JSON to template values, without reflection: objects become insertion-ordered dicts, arrays lists. A
/// number with an integral value becomes an int (also <c>1.0</c>), as @huggingface/jinja sees numbers
/// (JavaScript has one number type); Python would keep <c>1.0</c> a float.
/// </summary>
public static class JsonValues
{
    public static JinjaValue FromElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => JinjaValue.None,
        JsonValueKind.True => JinjaValue.True,
        JsonValueKind.False => JinjaValue.False,
        JsonValueKind.String => JinjaValue.FromString(e.GetString()!),
        JsonValueKind.Number => Number(e),
        JsonValueKind.Array => JinjaValue.FromList(e.EnumerateArray().Select(FromElement).ToList()),
        JsonValueKind.Object => Object(e),
        _ => JinjaValue.Undefined,
    };

    /// <summary>Parses <paramref name="json"/> into a value; malformed JSON is a <see cref="JsonException"/>.</summary>
    public static JinjaValue Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return FromElement(doc.RootElement);
    }

    private static JinjaValue Number(JsonElement e)
    {
        if (e.TryGetInt64(out long l))
            return JinjaValue.FromInt(l);
        // Out of double's range (1e400): infinity, as JavaScript's JSON.parse reads it.
        if (!e.TryGetDouble(out double d))
            d = e.GetRawText().StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
        return Math.Floor(d) == d && Math.Abs(d) < 9.2e18 ? JinjaValue.FromInt((long)d) : JinjaValue.FromFloat(d);
    }

    private static JinjaValue Object(JsonElement e)
    {
        var dict = new JinjaDict();
        foreach (var p in e.EnumerateObject())
            dict.Set(p.Name, FromElement(p.Value));
        return JinjaValue.FromDict(dict);
    }
}
