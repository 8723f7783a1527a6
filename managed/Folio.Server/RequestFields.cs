using System.Text.Json;

namespace Folio.Server;

/// <summary>
/// Typed reads of a JSON request body's fields: a field of the wrong type is a 400 naming it (the OpenAI
/// error's "param"), a missing optional field gives the default, JSON null counts as missing (OpenAI clients
/// send explicit nulls).
/// </summary>
internal readonly struct RequestFields(JsonElement root)
{
    public JsonElement Root { get; } = root;

    public static RequestFields Parse(JsonDocument document)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new ApiException(400, $"the request body must be a JSON object; got {Kind(document.RootElement)}");
        return new RequestFields(document.RootElement);
    }

    public bool TryGet(string name, out JsonElement value) =>
        Root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    public string? String(string name)
    {
        if (!TryGet(name, out var v)) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(name, "a string", v);
    }

    public bool? Bool(string name)
    {
        if (!TryGet(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(name, "a boolean", v),
        };
    }

    public long? Long(string name, long min = long.MinValue, long max = long.MaxValue)
    {
        if (!TryGet(name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long value))
        {
            // 5.0 is an integer too (JavaScript clients send numbers without distinction).
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 1e15)
                value = (long)d;
            else
                throw Wrong(name, "an integer", v);
        }
        if (value < min || value > max)
            throw new ApiException(400, $"'{name}' is {value}; it must be {Range(min, max)}", name);
        return value;
    }

    public int? Int(string name, int min = int.MinValue, int max = int.MaxValue) => (int?)Long(name, min, max);

    public float? Float(string name, double min = double.MinValue, double max = double.MaxValue)
    {
        if (!TryGet(name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double value) || !double.IsFinite(value))
            throw Wrong(name, "a number", v);
        if (value < min || value > max)
            throw new ApiException(400, $"'{name}' is {value}; it must be between {min} and {max}", name);
        return (float)value;
    }

    /// <summary>A string or a list of strings (OpenAI's "stop").</summary>
    public IReadOnlyList<string>? Strings(string name)
    {
        if (!TryGet(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(name, "a string or a list of strings", v);
        var list = new List<string>();
        foreach (var item in v.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Wrong(name, "a list of strings", v));
        return list;
    }

    public IReadOnlyList<int>? Ints(string name)
    {
        if (!TryGet(name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(name, "a list of integers", v);
        var list = new List<int>();
        foreach (var item in v.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int i) ? i : throw Wrong(name, "a list of integers", v));
        return list;
    }

    public static ApiException Wrong(string name, string expected, JsonElement got) =>
        new(400, $"'{name}' must be {expected}; got {Kind(got)}", name);

    public static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string Range(long min, long max) =>
        max == long.MaxValue ? $">= {min}" : min == long.MinValue ? $"<= {max}" : $"between {min} and {max}";
}
