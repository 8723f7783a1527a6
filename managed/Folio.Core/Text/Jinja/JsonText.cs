using System.Globalization;
using System.Text;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// <c>tojson</c>: Python's <c>json.dumps</c> layout as transformers calls it (<c>ensure_ascii=False</c>;
/// separators <c>", "</c> and <c>": "</c>, or <c>","</c> and <c>": "</c> when indenting; empty containers stay
/// <c>[]</c>/<c>{}</c>), with JavaScript's number and string escaping as @huggingface/jinja writes them: an
/// integral float is written without <c>.0</c>, control characters as <c>\u00XX</c>, nothing else escaped.
/// </summary>
internal static class JsonText
{
    public static string Write(JinjaValue value, JsonOptions options)
    {
        var sb = new StringBuilder();
        Write(sb, value, options, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JinjaValue v, JsonOptions o, int depth)
    {
        // A namespace can hold itself ({% set ns.me = ns %}): fail instead of overflowing the stack.
        if (depth > 512)
            throw new JinjaError("the value nests too deeply (or contains itself) to convert to JSON");
        string item = o.ItemSeparator ?? (o.Indent is > 0 ? "," : ", ");
        string key = o.KeySeparator ?? ": ";
        switch (v.Kind)
        {
            case JinjaValueKind.None:
                sb.Append("null");
                return;
            case JinjaValueKind.Undefined:
                sb.Append(o.UndefinedAsNull ? "null" : "undefined");
                return;
            case JinjaValueKind.Bool:
                sb.Append(v.AsBool ? "true" : "false");
                return;
            case JinjaValueKind.Int:
                sb.Append(v.AsInt.ToString(CultureInfo.InvariantCulture));
                return;
            case JinjaValueKind.Float:
                double d = v.AsNumber;
                sb.Append(double.IsFinite(d) ? JsNumberFormat.Format(d) : "null");
                return;
            case JinjaValueKind.String:
                WriteString(sb, v.AsString, o.EnsureAscii);
                return;
            case JinjaValueKind.List:
            {
                // @huggingface/jinja cannot serialize a tuple (Python writes it as a list); refusing keeps parity.
                if (v.IsTuple)
                    throw new JinjaError("cannot convert a tuple to JSON or print it");
                var items = v.AsList;
                if (items.Count == 0)
                {
                    sb.Append("[]");
                    return;
                }
                sb.Append('[');
                for (int i = 0; i < items.Count; i++)
                {
                    if (i > 0)
                        sb.Append(item);
                    NewLine(sb, o, depth + 1);
                    Write(sb, items[i], o, depth + 1);
                }
                NewLine(sb, o, depth);
                sb.Append(']');
                return;
            }
            case JinjaValueKind.Dict or JinjaValueKind.Namespace:
            {
                IEnumerable<KeyValuePair<string, JinjaValue>> entries = v.AsDict.Entries;
                if (o.SortKeys)
                    entries = entries.OrderBy(e => e.Key, StringComparer.Ordinal);
                bool any = false;
                sb.Append('{');
                foreach (var (k, value) in entries)
                {
                    if (any)
                        sb.Append(item);
                    any = true;
                    NewLine(sb, o, depth + 1);
                    WriteString(sb, k, o.EnsureAscii);
                    sb.Append(key);
                    Write(sb, value, o, depth + 1);
                }
                if (any)
                    NewLine(sb, o, depth);
                sb.Append('}');
                return;
            }
            default:
                throw new JinjaError($"cannot convert a {v.TypeName} value to JSON");
        }
    }

    private static void NewLine(StringBuilder sb, JsonOptions o, int depth)
    {
        if (o.Indent is > 0 and int n)
            sb.Append('\n').Append(' ', n * depth);
    }

    /// <summary>JavaScript's <c>JSON.stringify</c> for a string (lone surrogates escaped, as Node does).</summary>
    public static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    bool lone = char.IsHighSurrogate(c) ? i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])
                        : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1]));
                    if (c < 0x20 || lone || (ensureAscii && c >= 0x7f))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
