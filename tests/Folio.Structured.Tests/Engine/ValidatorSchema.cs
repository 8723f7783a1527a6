using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Folio.Structured.Tests.Engine;

/// <summary>
/// A MaskBench schema as JsonSchema.Net 8 builds it. That validator has no draft 4, so a draft-4 schema is read as
/// draft 7 with its boolean exclusiveMinimum/exclusiveMaximum turned into draft 6's numbers (the one draft-4
/// keyword whose meaning changed); a schema without $schema is 2020-12, or draft 7 where it uses the array form
/// of items.
/// </summary>
internal static class ValidatorSchema
{
    private const string Draft7 = "http://json-schema.org/draft-07/schema#";

    public static JsonSchema Build(string text)
    {
        var node = JsonNode.Parse(text)!;
        if (text.Contains("draft-04/schema", StringComparison.Ordinal))
            ConvertDraft4(node);
        string converted = node.ToJsonString();
        try
        {
            return JsonSchema.FromText(converted, new BuildOptions { Dialect = Dialect.Draft202012 });
        }
        catch (JsonSchemaException)
        {
            return JsonSchema.FromText(converted, new BuildOptions { Dialect = Dialect.Draft07 });
        }
    }

    private static void ConvertDraft4(JsonNode? node)
    {
        if (node is JsonArray array)
        {
            foreach (var item in array)
                ConvertDraft4(item);
            return;
        }
        if (node is not JsonObject o)
            return;
        if (o["$schema"] is JsonValue id && id.GetValueKind() == JsonValueKind.String && id.GetValue<string>().Contains("draft-04", StringComparison.Ordinal))
            o["$schema"] = Draft7;
        Convert(o, "exclusiveMinimum", "minimum");
        Convert(o, "exclusiveMaximum", "maximum");
        foreach (var (_, child) in o.ToList())
            ConvertDraft4(child);
    }

    private static void Convert(JsonObject o, string exclusive, string bound)
    {
        if (o[exclusive] is not JsonValue v || v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            return;
        bool on = v.GetValue<bool>();
        o.Remove(exclusive);
        if (on && o[bound] is { } limit)
        {
            o.Remove(bound);
            o[exclusive] = limit;
        }
    }
}
