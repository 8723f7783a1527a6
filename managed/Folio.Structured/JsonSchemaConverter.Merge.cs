using System.Text.Json.Nodes;

namespace Folio.Structured;

/// <summary><c>allOf</c> (and <c>$ref</c> with siblings): schemas merged into one, where the merge is exact.</summary>
public sealed partial class JsonSchemaConverter
{
    private const int MaxMergeDepth = 16;

    private JsonNode? MergeAll(IReadOnlyList<JsonNode?> parts, string path)
    {
        if (++_mergeDepth > MaxMergeDepth) throw Refuse("allOf", path + " (recursive or too deeply nested)");
        try
        {
            JsonNode? acc = JsonValue.Create(true);
            foreach (var p in parts) acc = Merge(acc, Inline(p, path), path);
            return acc;
        }
        finally
        {
            _mergeDepth--;
        }
    }

    /// <summary>A schema with its own top-level $ref and allOf folded in, ready to merge key by key.</summary>
    private JsonNode? Inline(JsonNode? s, string path)
    {
        if (s is not JsonObject o) return s;
        if (o["$ref"] is JsonNode r)
        {
            var target = Resolve(Str(r) ?? throw Bad("$ref must be a string", path), path);
            return MergeAll([WithoutKey(o, "$ref"), target], path);
        }
        if (o["allOf"] is JsonArray all)
        {
            var list = new List<JsonNode?> { WithoutKey(o, "allOf") };
            list.AddRange(all);
            return MergeAll(list, path);
        }
        return o;
    }

    private JsonNode? Merge(JsonNode? a, JsonNode? b, string path)
    {
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new GrammarException($"schema nested too deeply at {path}");
        if (a is JsonValue av && av.TryGetValue(out bool ab)) return ab ? b?.DeepClone() : JsonValue.Create(false);
        if (b is JsonValue bv && bv.TryGetValue(out bool bb)) return bb ? a?.DeepClone() : JsonValue.Create(false);
        if (a is not JsonObject x || b is not JsonObject y) throw Bad("a schema must be an object or a boolean", path);
        var result = (JsonObject)x.DeepClone();
        foreach (var (key, value) in y)
        {
            if (!result.TryGetPropertyValue(key, out var mine) || !Assertions.Contains(key) && !Unsupported.Contains(key))
            {
                if (!result.ContainsKey(key)) result[key] = value?.DeepClone();
                continue;
            }
            if (JsonNode.DeepEquals(mine, value)) continue;
            result[key] = key switch
            {
                "properties" => MergeProperties((JsonObject)mine!, value as JsonObject ?? throw Bad("properties must be an object", path), path),
                "required" => new JsonArray([.. ((JsonArray)mine!).Concat((JsonArray)value!).Select(n => Str(n)).Distinct().Select(s => (JsonNode?)JsonValue.Create(s))]),
                "type" => MergeTypes(mine, value, path),
                "minimum" or "minLength" or "minItems" => Pick(mine, value, max: true),
                "maximum" or "maxLength" or "maxItems" => Pick(mine, value, max: false),
                "additionalProperties" or "items" => Merge(Inline(mine, path), Inline(value, path), path),
                "anyOf" or "oneOf" => throw Refuse("allOf", path + $" (two {key} lists to merge)"),
                _ => throw Refuse("allOf", path + $" (conflicting '{key}')"),
            };
        }
        // With additionalProperties false on one side, properties only the other side names must be absent.
        foreach (var (side, other) in new[] { (x, y), (y, x) })
        {
            if (side["additionalProperties"] is not JsonValue f || !f.TryGetValue(out bool allowed) || allowed) continue;
            var sideProps = side["properties"] as JsonObject;
            if (result["properties"] is JsonObject props)
                foreach (var name in props.Select(p => p.Key).ToList())
                    if (sideProps is null || !sideProps.ContainsKey(name)) props[name] = JsonValue.Create(false);
            _ = other;
        }
        return result;
    }

    private JsonObject MergeProperties(JsonObject a, JsonObject b, string path)
    {
        var result = (JsonObject)a.DeepClone();
        foreach (var (k, v) in b)
            result[k] = result.TryGetPropertyValue(k, out var mine) ? Merge(Inline(mine, path), Inline(v, path), $"{path}/properties/{k}") : v?.DeepClone();
        return result;
    }

    private static JsonNode MergeTypes(JsonNode? a, JsonNode? b, string path)
    {
        static HashSet<string> Set(JsonNode? n, string path) => n is JsonArray arr
            ? arr.Select(t => Str(t) ?? throw Bad("type entries must be strings", path)).ToHashSet()
            : [Str(n) ?? throw Bad("type must be a string or an array", path)];
        var sa = Set(a, path);
        var sb = Set(b, path);
        var result = new HashSet<string>();
        foreach (var t in sa)
        {
            if (sb.Contains(t)) result.Add(t);
            else if (t == "integer" && sb.Contains("number")) result.Add("integer");
            else if (t == "number" && sb.Contains("integer")) result.Add("integer");
        }
        return new JsonArray([.. result.Select(t => (JsonNode?)JsonValue.Create(t))]);
    }

    private static JsonNode? Pick(JsonNode? a, JsonNode? b, bool max)
    {
        decimal da = decimal.Parse(a!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
        decimal db = decimal.Parse(b!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
        return (max ? da >= db : da <= db) ? a.DeepClone() : b.DeepClone();
    }
}
