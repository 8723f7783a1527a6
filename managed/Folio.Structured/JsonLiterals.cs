using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Folio.Structured;

/// <summary>
/// <c>const</c> and <c>enum</c> values as grammar literals for <see cref="JsonSchemaConverter"/>: each value in its
/// compact JSON text, numbers also in the other spellings JSON Schema counts as equal, values of types the schema
/// excludes left out.
/// </summary>
internal static class JsonLiterals
{
    /// <summary>The alternatives of <paramref name="values"/> whose JSON type is one of <paramref name="types"/>.</summary>
    public static RxNode Literals(IEnumerable<JsonNode?> values, List<string> types)
    {
        var alts = new List<RxNode>();
        foreach (var v in values)
        {
            if (!types.Contains(TypeOf(v)) && !(TypeOf(v) == "integer" && types.Contains("number"))) continue;
            string text = JsonText.Compact(v);
            alts.Add(RxNode.Literal(text));
            if (TypeOf(v) is "integer" or "number")
                foreach (string form in EqualNumberForms(text)) alts.Add(RxNode.Literal(form));
        }
        return RxNode.Alt(alts);
    }

    /// <summary>
    /// Other spellings of the number <paramref name="text"/> that JSON Schema counts as equal (<c>enum: [2.0]</c>
    /// accepts <c>2</c>): the plain form without trailing zeros and, for integral values, the integer and
    /// <c>N.0</c> forms. Empty when the value is out of <see cref="decimal"/>'s range.
    /// </summary>
    private static IEnumerable<string> EqualNumberForms(string text)
    {
        if (!decimal.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d))
            return [];
        var forms = new List<string>();
        if (d == decimal.Truncate(d))
        {
            string integer = new BigInteger(d).ToString(System.Globalization.CultureInfo.InvariantCulture);
            forms.Add(integer);
            forms.Add(integer + ".0");
        }
        else
        {
            // Dividing by 1.000… drops trailing zeros from the decimal's scale.
            forms.Add((d / 1.000000000000000000000000000000000m).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return forms.Where(f => f != text);
    }

    public static string TypeOf(JsonNode? v) => v switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue x => x.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Number => decimal.TryParse(x.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && d == decimal.Truncate(d) ? "integer" : "number",
            _ => "null",
        },
        _ => "null",
    };
}
