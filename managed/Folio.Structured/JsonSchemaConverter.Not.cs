using System.Text.Json.Nodes;

namespace Folio.Structured;

/// <summary>
/// <c>not</c>, where its complement is a schema this converter has: <c>not false</c> (no constraint),
/// <c>not true</c> or <c>not {}</c> (no value), <c>not {not: S}</c> (S, merged as allOf) and <c>not {type: T}</c> (the
/// other types). Anything else under <c>not</c> is refused with its path.
/// </summary>
public sealed partial class JsonSchemaConverter
{
    /// <summary><paramref name="o"/> without its <c>not</c>, rewritten to mean the same; null when no value satisfies it.</summary>
    private JsonObject? WithoutNot(JsonObject o, string path)
    {
        var negated = o["not"];
        var rest = WithoutKey(o, "not");
        string at = path + "/not";
        if (negated is JsonValue v && v.TryGetValue(out bool b))
            return b ? null : rest;
        if (negated is not JsonObject n) throw Bad("not must be a schema", at);
        var keys = n.Select(p => p.Key).Where(k => Assertions.Contains(k) || Unsupported.Contains(k)).ToList();
        if (keys.Count == 0)
            return null;   // not {} (annotations only): nothing validates
        if (keys is ["not"])
        {
            // not not S = S: S joins the schema's allOf.
            var all = rest["allOf"] is JsonArray parts ? (JsonArray)parts.DeepClone() : [];
            all.Add(n["not"]?.DeepClone());
            rest["allOf"] = all;
            return rest;
        }
        if (keys is not ["type"])
            throw Refuse("not", at + " (only of a type, a boolean or another not)");
        var allowed = RawTypes(o["type"], path);
        var excluded = RawTypes(n["type"], at);
        // "number" includes the integers: excluding integers alone from numbers leaves the non-integers, which
        // this converter cannot write.
        if (allowed.Contains("number") && excluded.Contains("integer") && !excluded.Contains("number"))
            throw Refuse("not", at + " (numbers that are not integers)");
        var remaining = allowed.Where(t => !excluded.Contains(t)).ToList();
        if (remaining.Contains("number")) remaining.Remove("integer");
        if (remaining.Count == 0) return null;
        rest["type"] = new JsonArray([.. remaining.Select(t => (JsonNode)JsonValue.Create(t))]);
        return rest;
    }

    /// <summary>A <c>type</c> value as a set, all types when absent, with "integer" in it wherever "number" is.</summary>
    private static HashSet<string> RawTypes(JsonNode? type, string path)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        switch (type)
        {
            case null: set.UnionWith(AllTypes); break;
            case JsonArray a:
                foreach (var t in a) set.Add(Str(t) ?? throw Bad("type entries must be strings", path));
                break;
            default: set.Add(Str(type) ?? throw Bad("type must be a string or an array", path)); break;
        }
        if (set.Contains("number")) set.Add("integer");
        return set;
    }
}
