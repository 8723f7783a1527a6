using System.Text.Json.Nodes;

namespace Folio.Structured;

/// <summary>
/// <c>oneOf</c> is matched as <c>anyOf</c>, which is exact only when no value satisfies two branches. This checks a
/// sufficient condition pairwise; when it cannot prove the branches disjoint, <c>oneOf</c> is refused.
/// </summary>
public sealed partial class JsonSchemaConverter
{
    private void CheckOneOfDisjoint(IReadOnlyList<JsonNode?> branches, string path)
    {
        var inlined = branches.Select(b => Inline(b, path)).ToList();
        for (int i = 0; i < inlined.Count; i++)
            for (int j = i + 1; j < inlined.Count; j++)
                if (!Disjoint(inlined[i], inlined[j], path))
                    throw Refuse("oneOf", path + $" (branches {i} and {j} may both match; only provably disjoint branches are supported)");
    }

    private bool Disjoint(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonValue av && av.TryGetValue(out bool ab) && !ab) return true;
        if (b is JsonValue bv && bv.TryGetValue(out bool bb) && !bb) return true;
        if (a is not JsonObject x || b is not JsonObject y) return false;
        // Different types.
        var tx = TypeSet(x, path);
        var ty = TypeSet(y, path);
        if (!tx.Overlaps(ty)) return true;
        // Different constant values.
        if (Values(x) is { } vx && Values(y) is { } vy && !vx.Overlaps(vy)) return true;
        // Objects: a property required by both with disjoint constants, or required by one and forbidden by the other.
        if (tx.Contains("object") && ty.Contains("object") && (tx.Count == 1 || ty.Count == 1))
        {
            var rx = Required(x);
            var ry = Required(y);
            foreach (var p in rx.Intersect(ry))
            {
                var px = Inline((x["properties"] as JsonObject)?[p], path) as JsonObject;
                var py = Inline((y["properties"] as JsonObject)?[p], path) as JsonObject;
                if (px is not null && py is not null && Values(px) is { } cx && Values(py) is { } cy && !cx.Overlaps(cy)) return true;
            }
            if (rx.Any(p => Forbids(y, p)) || ry.Any(p => Forbids(x, p))) return true;
        }
        return false;
    }

    private static HashSet<string> TypeSet(JsonObject o, string path)
    {
        var set = o["type"] is null ? [.. AllTypes, "integer"] : Types(o, path).ToHashSet();
        if (set.Contains("number")) set.Add("integer");
        if (set.Contains("integer")) set.Add("number");   // overlap test only: integers are numbers
        return set;
    }

    private static HashSet<string>? Values(JsonObject o)
    {
        if (o.ContainsKey("const")) return [JsonText.Compact(o["const"])];
        if (o["enum"] is JsonArray e) return e.Select(JsonText.Compact).ToHashSet(StringComparer.Ordinal);
        return null;
    }

    private static HashSet<string> Required(JsonObject o) =>
        o["required"] is JsonArray r ? r.Select(Str).OfType<string>().ToHashSet(StringComparer.Ordinal) : [];

    private static bool Forbids(JsonObject o, string property)
    {
        var props = o["properties"] as JsonObject;
        if (props is not null && props.TryGetPropertyValue(property, out var s))
            return s is JsonValue v && v.TryGetValue(out bool allowed) && !allowed;
        return o["additionalProperties"] is JsonValue ap && ap.TryGetValue(out bool extra) && !extra;
    }
}
