using System.Globalization;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// How values become text. Output (<c>{{ x }}</c>) follows @huggingface/jinja, which differs from Python:
/// none and undefined print nothing, booleans print <c>true</c>/<c>false</c>, lists and dicts print as JSON.
/// Concatenation (<c>+</c>, <c>~</c>, <c>join</c>) uses JavaScript's conversion, so a float 2.0 concatenates
/// as <c>2</c> while it prints as <c>2.0</c>.
/// </summary>
internal static class ValueText
{
    /// <summary>The text <c>{{ value }}</c> writes.</summary>
    public static string Output(JinjaValue v) => v.Kind switch
    {
        JinjaValueKind.None or JinjaValueKind.Undefined => "",
        JinjaValueKind.String => v.AsString,
        JinjaValueKind.Int => v.AsInt.ToString(CultureInfo.InvariantCulture),
        JinjaValueKind.Float => JsNumberFormat.FormatFloat(v.AsNumber),
        JinjaValueKind.Bool => v.AsBool ? "true" : "false",
        JinjaValueKind.List or JinjaValueKind.Dict or JinjaValueKind.Namespace => JsonText.Write(v, JsonOptions.Printing),
        _ => throw new JinjaError($"cannot print a {v.TypeName} value"),
    };

    /// <summary>The text a value contributes to a string concatenation.</summary>
    public static string Concat(JinjaValue v) => v.Kind switch
    {
        JinjaValueKind.String => v.AsString,
        JinjaValueKind.Int => v.AsInt.ToString(CultureInfo.InvariantCulture),
        JinjaValueKind.Float => JsNumberFormat.Format(v.AsNumber),
        JinjaValueKind.Bool => v.AsBool ? "true" : "false",
        _ => throw new JinjaError($"cannot concatenate a {v.TypeName} value to a string"),
    };

    /// <summary>An item of the <c>join</c> filter: as concatenation, but none and undefined join as empty text.</summary>
    public static string JoinItem(JinjaValue v) =>
        v.Kind is JinjaValueKind.None or JinjaValueKind.Undefined ? "" : Concat(v);
}
