using System.Globalization;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// Equality and ordering as @huggingface/jinja computes them. <c>==</c> is JavaScript's loose equality on the
/// underlying values: numbers and booleans compare numerically (<c>1 == true</c>, as in Python), none equals
/// undefined, a number equals a numeric string (<c>"1" == 1</c>: Python says false), and lists and dicts
/// are equal only when they are the same object (Python compares contents).
/// </summary>
internal static class ValueEquality
{
    public static bool LooseEquals(JinjaValue a, JinjaValue b)
    {
        bool aNil = a.Kind is JinjaValueKind.None or JinjaValueKind.Undefined;
        bool bNil = b.Kind is JinjaValueKind.None or JinjaValueKind.Undefined;
        if (aNil || bNil)
            return aNil && bNil;
        if (IsNumeric(a) && IsNumeric(b))
            return a.AsNumber == b.AsNumber;
        if (a.Kind == JinjaValueKind.String && b.Kind == JinjaValueKind.String)
            return string.Equals(a.AsString, b.AsString, StringComparison.Ordinal);
        if (IsNumeric(a) && b.Kind == JinjaValueKind.String)
            return a.AsNumber == JsToNumber(b.AsString);
        if (IsNumeric(b) && a.Kind == JinjaValueKind.String)
            return b.AsNumber == JsToNumber(a.AsString);
        return SameObject(a, b);
    }

    /// <summary>JavaScript's <c>===</c> on the underlying values (the <c>in</c> operator on lists, the <c>eq</c> test).</summary>
    public static bool StrictEquals(JinjaValue a, JinjaValue b)
    {
        if (a.IsNumber && b.IsNumber)
            return a.AsNumber == b.AsNumber;
        if (a.Kind != b.Kind)
            return false;
        return a.Kind switch
        {
            JinjaValueKind.None or JinjaValueKind.Undefined => true,
            JinjaValueKind.Bool => a.AsBool == b.AsBool,
            JinjaValueKind.String => string.Equals(a.AsString, b.AsString, StringComparison.Ordinal),
            _ => SameObject(a, b),
        };
    }

    private static bool SameObject(JinjaValue a, JinjaValue b) =>
        a.Kind == b.Kind && a.Kind switch
        {
            JinjaValueKind.List => ReferenceEquals(a.AsList, b.AsList),
            JinjaValueKind.Dict or JinjaValueKind.Namespace => ReferenceEquals(a.AsDict, b.AsDict),
            JinjaValueKind.Callable => ReferenceEquals(a.AsFunction, b.AsFunction),
            _ => false,
        };

    public static bool IsNumeric(JinjaValue v) => v.Kind is JinjaValueKind.Int or JinjaValueKind.Float or JinjaValueKind.Bool;

    /// <summary>JavaScript's ToNumber for a string: surrounding whitespace ignored, empty is 0, junk is NaN.</summary>
    private static double JsToNumber(string s)
    {
        string t = JsText.Trim(s);
        if (t.Length == 0)
            return 0;
        if (t is "Infinity" or "+Infinity")
            return double.PositiveInfinity;
        if (t == "-Infinity")
            return double.NegativeInfinity;
        bool plain = t.All(c => char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-');
        return plain && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : double.NaN;
    }

    /// <summary>
    /// The order of <c>sort</c> and <c>dictsort</c>: numbers and booleans numerically, strings by UTF-16 code
    /// units (lower-cased first unless case-sensitive), none with none and undefined with undefined are equal;
    /// anything else is an error.
    /// </summary>
    public static int Compare(JinjaValue a, JinjaValue b, bool caseSensitive)
    {
        if (a.IsNone && b.IsNone || a.IsUndefined && b.IsUndefined)
            return 0;
        if (a.IsNone || b.IsNone || a.IsUndefined || b.IsUndefined)
            throw new JinjaError($"cannot compare {a.TypeName} with {b.TypeName}");
        if (IsNumeric(a) && IsNumeric(b))
            return a.AsNumber.CompareTo(b.AsNumber) switch { < 0 => -1, > 0 => 1, _ => 0 };
        if (a.Kind != b.Kind)
            throw new JinjaError($"cannot compare different types: {a.TypeName} and {b.TypeName}");
        if (a.Kind != JinjaValueKind.String)
            throw new JinjaError($"cannot compare {a.TypeName} values");
        string x = caseSensitive ? a.AsString : JsText.ToLower(a.AsString);
        string y = caseSensitive ? b.AsString : JsText.ToLower(b.AsString);
        return Math.Sign(string.CompareOrdinal(x, y));
    }
}
