using System.Globalization;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// The filters of <c>x | name(args)</c>. Where @huggingface/jinja has a filter we follow its behaviour (see
/// the notes on each); filters it lacks (<c>round</c>, <c>escape</c>, <c>select</c>, <c>reject</c>,
/// <c>map</c> with a filter name, <c>count</c>, <c>d</c>) follow Python Jinja. An unknown filter, or a filter
/// applied to a type it does not take, is an error naming both.
/// </summary>
internal static partial class BuiltinFilters
{
    public static JinjaValue Apply(string name, JinjaValue v, JinjaArguments a)
    {
        switch (name)
        {
            case "safe": return v;
            case "tojson": return JinjaValue.FromString(JsonText.Write(v, JsonArguments(a)));
            case "default" or "d": return Default(v, a);
            case "length" or "count":
                return v.Kind switch
                {
                    JinjaValueKind.List => JinjaValue.FromInt(v.AsList.Count),
                    JinjaValueKind.String => JinjaValue.FromInt(v.AsString.Length),
                    JinjaValueKind.Dict => JinjaValue.FromInt(v.AsDict.Count),
                    _ => throw Unsupported(name, v),
                };
            case "string": return v.IsUndefined || v.IsNone ? throw Unsupported(name, v) : JinjaValue.FromString(ValueText.Output(v));
            case "int" or "float": return ToNumber(name, v, a);
            case "abs":
                return v.Kind switch
                {
                    JinjaValueKind.Int => JinjaValue.FromInt(Math.Abs(v.AsInt)),
                    JinjaValueKind.Float => JinjaValue.FromFloat(Math.Abs(v.AsNumber)),
                    _ => throw Unsupported(name, v),
                };
            case "round": return Round(v, a);
            case "join": return Join(v, a);
        }
        if (v.Kind == JinjaValueKind.String)
            return StringFilter(name, v.AsString, a) ?? throw Unsupported(name, v);
        if (v.Kind == JinjaValueKind.List)
            return ListFilter(name, v, a) ?? throw Unsupported(name, v);
        if (v.Kind == JinjaValueKind.Dict)
        {
            if (name == "items")
                return DictMethods.Items(v);
            if (name == "list")
                return JinjaValue.FromList(v.AsDict.Entries.Select(e => JinjaValue.FromString(e.Key)).ToList());
            if (DictMethods.Get(v, name) is { Kind: JinjaValueKind.Callable } method)
                return method.AsFunction(a);
        }
        throw Unsupported(name, v);
    }

    private static JinjaError Unsupported(string name, JinjaValue v) => new($"filter '{name}' cannot be applied to a {v.TypeName} value");

    private static JinjaValue? StringFilter(string name, string s, JinjaArguments a) => name switch
    {
        "upper" => JinjaValue.FromString(JsText.ToUpper(s)),
        "lower" => JinjaValue.FromString(JsText.ToLower(s)),
        "title" => JinjaValue.FromString(JsText.TitleCase(s)),
        "capitalize" => JinjaValue.FromString(StringMethods.Capitalize(s)),
        "trim" => JinjaValue.FromString(JsText.Trim(s)),
        "indent" => JinjaValue.FromString(Indent(s, a)),
        "replace" => JinjaValue.FromString(StringMethods.Replace(s, a)),
        "escape" or "e" => JinjaValue.FromString(Escape(s)),
        "list" => JinjaValue.FromList(Slicing.CodePoints(s).Select(JinjaValue.FromString).ToList()),
        "first" => s.Length > 0 ? JinjaValue.FromString(Slicing.CodePoints(s)[0]) : JinjaValue.Undefined,
        "last" => s.Length > 0 ? JinjaValue.FromString(Slicing.CodePoints(s)[^1]) : JinjaValue.Undefined,
        "reverse" => JinjaValue.FromString(string.Concat(Enumerable.Reverse(Slicing.CodePoints(s)))),
        _ => null,
    };

    /// <summary><c>indent(width=4, first=false, blank=false)</c>; <c>width</c> may be a string to indent with.</summary>
    private static string Indent(string s, JinjaArguments a)
    {
        var width = a.Get(0, "width") ?? JinjaValue.FromInt(4);
        string pad = width.Kind switch
        {
            JinjaValueKind.Int => new string(' ', (int)Math.Max(0, width.AsInt)),
            JinjaValueKind.String => width.AsString,
            _ => throw new JinjaError("indent: width must be an integer or a string"),
        };
        bool first = (a.Get(1, "first") ?? JinjaValue.False).IsTruthy;
        bool blank = (a.Get(2, "blank") ?? JinjaValue.False).IsTruthy;
        var lines = s.Split('\n');
        for (int i = 0; i < lines.Length; i++)
            if (!((!first && i == 0) || (!blank && lines[i].Length == 0)))
                lines[i] = pad + lines[i];
        return string.Join('\n', lines);
    }

    /// <summary>HTML escaping as Python's markupsafe (&amp; &lt; &gt; &#34; &#39;).</summary>
    private static string Escape(string s) =>
        s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
            .Replace("\"", "&#34;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);

    /// <summary><c>default(value='', boolean=false)</c>: the value for undefined (or, with boolean, for anything falsy).</summary>
    private static JinjaValue Default(JinjaValue v, JinjaArguments a)
    {
        var fallback = a.Positional.Count > 0 ? a.Positional[0] : a.Keywords.TryGetValue("default_value", out var dv) ? dv : JinjaValue.EmptyString;
        bool boolean = DictMethods.Flag(a.Get(1, "boolean"), "boolean");
        return v.IsUndefined || (boolean && !v.IsTruthy) ? fallback : v;
    }

    /// <summary><c>join(separator='')</c> of a list (none and undefined items join as empty text) or of a string's code points.</summary>
    private static JinjaValue Join(JinjaValue v, JinjaArguments a)
    {
        // Python Jinja names the separator "d", @huggingface/jinja "separator": both are accepted.
        var sep = a.Get(0, "d") ?? (a.Keywords.TryGetValue("separator", out var named) ? named : JinjaValue.EmptyString);
        if (sep.Kind != JinjaValueKind.String)
            throw new JinjaError("join: the separator must be a string");
        var attribute = a.Keywords.TryGetValue("attribute", out var attr) ? attr : null;
        IEnumerable<string> items = v.Kind switch
        {
            JinjaValueKind.List when attribute is null => v.AsList.Select(ValueText.JoinItem),
            JinjaValueKind.List => v.AsList.Select(x => ValueText.JoinItem(AttributePath(x, ValueText.Concat(attribute)))),
            JinjaValueKind.String => Slicing.CodePoints(v.AsString),
            _ => throw Unsupported("join", v),
        };
        return JinjaValue.FromString(string.Join(sep.AsString, items));
    }

    /// <summary><c>int(default=0)</c> / <c>float(default=0.0)</c>; strings parse as JavaScript's parseInt/parseFloat (a numeric prefix).</summary>
    private static JinjaValue ToNumber(string name, JinjaValue v, JinjaArguments a)
    {
        bool toInt = name == "int";
        var fallback = a.Get(0, "default") ?? (toInt ? JinjaValue.FromInt(0) : JinjaValue.FromFloat(0));
        switch (v.Kind)
        {
            case JinjaValueKind.Int or JinjaValueKind.Float or JinjaValueKind.Bool:
                double d = v.AsNumber;
                return toInt ? JinjaValue.FromInt((long)Math.Truncate(d)) : JinjaValue.FromFloat(d);
            case JinjaValueKind.String:
                double? parsed = ParseNumberPrefix(v.AsString, toInt);
                if (parsed is not { } p || double.IsNaN(p))
                    return fallback;
                return toInt ? JinjaValue.FromInt((long)p) : JinjaValue.FromFloat(p);
            default:
                throw Unsupported(name, v);
        }
    }

    private static double? ParseNumberPrefix(string s, bool integer)
    {
        string t = JsText.TrimStart(s);
        int i = 0;
        if (i < t.Length && t[i] is '+' or '-')
            i++;
        if (!integer && string.CompareOrdinal(t, i, "Infinity", 0, 8) == 0)
            return t[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        int digitsStart = i;
        while (i < t.Length && char.IsAsciiDigit(t[i]))
            i++;
        int intDigits = i - digitsStart;
        if (!integer)
        {
            int frac = 0;
            if (i < t.Length && t[i] == '.')
            {
                int j = i + 1;
                while (j < t.Length && char.IsAsciiDigit(t[j]))
                    j++;
                frac = j - i - 1;
                if (intDigits + frac > 0)
                    i = j;
            }
            if (intDigits + frac > 0 && i < t.Length && t[i] is 'e' or 'E')
            {
                int j = i + 1;
                if (j < t.Length && t[j] is '+' or '-')
                    j++;
                int expStart = j;
                while (j < t.Length && char.IsAsciiDigit(t[j]))
                    j++;
                if (j > expStart)
                    i = j;
            }
            if (intDigits + frac == 0)
                return null;
        }
        else if (intDigits == 0)
            return null;
        return double.Parse(t.AsSpan(0, i), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>Python's <c>round(precision=0, method='common')</c> (half away from zero); the result is a float.</summary>
    private static JinjaValue Round(JinjaValue v, JinjaArguments a)
    {
        if (!v.IsNumber)
            throw Unsupported("round", v);
        var precision = a.Get(0, "precision") ?? JinjaValue.FromInt(0);
        var method = a.Get(1, "method") ?? JinjaValue.FromString("common");
        double factor = Math.Pow(10, precision.AsInt);
        double x = v.AsNumber * factor;
        double r = method.AsString switch
        {
            "common" => Math.Round(x, MidpointRounding.AwayFromZero),
            "floor" => Math.Floor(x),
            "ceil" => Math.Ceiling(x),
            _ => throw new JinjaError("round: method must be 'common', 'floor' or 'ceil'"),
        };
        return JinjaValue.FromFloat(r / factor);
    }

    /// <summary>Reads <c>tojson</c>'s options (keyword, or indent positionally as in Python).</summary>
    private static JsonOptions JsonArguments(JinjaArguments a)
    {
        var indent = a.Get(0, "indent") ?? JinjaValue.None;
        if (!indent.IsNone && indent.Kind != JinjaValueKind.Int)
            throw new JinjaError("tojson: indent must be an integer");
        bool ascii = DictMethods.Flag(a.Keywords.TryGetValue("ensure_ascii", out var e) ? e : null, "ensure_ascii");
        bool sort = DictMethods.Flag(a.Keywords.TryGetValue("sort_keys", out var s) ? s : null, "sort_keys");
        string? item = null, key = null;
        if (a.Keywords.TryGetValue("separators", out var seps) && !seps.IsNone)
        {
            if (seps.Kind != JinjaValueKind.List || seps.AsList.Count != 2 || seps.AsList.Any(x => x.Kind != JinjaValueKind.String))
                throw new JinjaError("tojson: separators must be two strings");
            item = seps.AsList[0].AsString;
            key = seps.AsList[1].AsString;
        }
        return new JsonOptions(indent.IsNone ? null : (int)indent.AsInt, ascii, sort, item, key, true);
    }

    /// <summary>A dotted attribute path (<c>"function.name"</c>, <c>"items.0"</c>) into dicts and lists; undefined when missing.</summary>
    public static JinjaValue AttributePath(JinjaValue item, string path)
    {
        var value = item;
        foreach (string part in path.Split('.'))
        {
            if (value.Kind is JinjaValueKind.Dict or JinjaValueKind.Namespace)
                value = value.AsDict.TryGetValue(part, out var v) ? v : JinjaValue.Undefined;
            else if (value.Kind == JinjaValueKind.List && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < value.AsList.Count)
                value = value.AsList[i];
            else
                return JinjaValue.Undefined;
        }
        return value;
    }

}
