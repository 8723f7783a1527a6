using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Folio.Structured;

/// <summary>
/// The JSON text forms the grammars emit and accept: strings with raw non-ASCII and the short escapes, compact
/// values (no whitespace), and string-content languages lifted from decoded characters to their escaped forms.
/// </summary>
public static class JsonText
{
    /// <summary>A JSON string literal as this engine writes it (raw non-ASCII; \" \\ \b \f \n \r \t; \u00XX for other controls).</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        foreach (char c in s)
        {
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
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Compact JSON of a value: no whitespace, numbers as written in the source, strings per <see cref="Quote"/>.</summary>
    public static string Compact(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(node, sb);
        return sb.ToString();
    }

    /// <summary>Compact JSON of a parsed element (the benchmark's serialization of MaskBench instances).</summary>
    public static string Compact(JsonElement e)
    {
        var sb = new StringBuilder();
        Write(e, sb);
        return sb.ToString();
    }

    private static void Write(JsonElement e, StringBuilder sb)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                bool first = true;
                foreach (var p in e.EnumerateObject())
                {
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append(Quote(p.Name)).Append(':');
                    Write(p.Value, sb);
                }
                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                int i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    if (i++ > 0) sb.Append(',');
                    Write(item, sb);
                }
                sb.Append(']');
                break;
            case JsonValueKind.String: sb.Append(Quote(e.GetString()!)); break;
            default: sb.Append(e.GetRawText()); break;
        }
    }

    private static void Write(JsonNode? node, StringBuilder sb)
    {
        switch (node)
        {
            case null: sb.Append("null"); break;
            case JsonObject o:
                sb.Append('{');
                bool first = true;
                foreach (var (k, v) in o)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append(Quote(k)).Append(':');
                    Write(v, sb);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (int i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(a[i], sb);
                }
                sb.Append(']');
                break;
            case JsonValue v:
                if (v.GetValueKind() == JsonValueKind.String) sb.Append(Quote(v.GetValue<string>()));
                else sb.Append(v.ToJsonString());
                break;
        }
    }

    private static RxNode Hex => RxNode.Chars([('0', '9'), ('A', 'F'), ('a', 'f')]);

    /// <summary>One character of an unconstrained JSON string body, in any valid encoding.</summary>
    public static RxNode AnyStringChar { get; } = RxNode.Alt(
        RxNode.Chars(RxNode.Complement(RxNode.Normalize([(0, 0x1F), ('"', '"'), ('\\', '\\'), (0xD800, 0xDFFF)]), 0x10FFFF)),
        RxNode.Seq(RxNode.Char('\\'), RxNode.Alt(
            RxNode.Chars([('"', '"'), ('\\', '\\'), ('/', '/'), ('b', 'b'), ('f', 'f'), ('n', 'n'), ('r', 'r'), ('t', 't')]),
            RxNode.Seq(RxNode.Char('u'), RxNode.Repeat(Hex, 4, 4)))));

    /// <summary>
    /// One character of a JSON string body whose decoded value is counted or pattern-checked: the same forms, but
    /// \u escapes exclude surrogates, so each written character decodes to exactly one code point.
    /// </summary>
    public static RxNode CountedStringChar { get; } = RxNode.Alt(
        RxNode.Chars(RxNode.Complement(RxNode.Normalize([(0, 0x1F), ('"', '"'), ('\\', '\\'), (0xD800, 0xDFFF)]), 0x10FFFF)),
        RxNode.Seq(RxNode.Char('\\'), RxNode.Alt(
            RxNode.Chars([('"', '"'), ('\\', '\\'), ('/', '/'), ('b', 'b'), ('f', 'f'), ('n', 'n'), ('r', 'r'), ('t', 't')]),
            RxNode.Seq(RxNode.Char('u'), RxNode.Alt(
                RxNode.Seq(RxNode.Chars([('0', '9'), ('A', 'C'), ('E', 'F'), ('a', 'c'), ('e', 'f')]), RxNode.Repeat(Hex, 3, 3)),
                RxNode.Seq(RxNode.Chars([('D', 'D'), ('d', 'd')]), RxNode.Chars([('0', '7')]), RxNode.Repeat(Hex, 2, 2)))))));

    /// <summary>
    /// Lifts a language of decoded strings to the JSON-escaped text that writes them: each character class becomes
    /// its raw members plus the escapes of its special members (\" \\ short escapes, \u00XX for controls).
    /// Decoding is a function, so the lifted language decodes to exactly the original one.
    /// </summary>
    public static RxNode Escape(RxNode decoded)
    {
        switch (decoded.Kind)
        {
            case RxKind.Chars:
            {
                // A class without specials (a key's letters, most pattern classes) is written raw: the node itself.
                if (!HasSpecial(decoded.Ranges)) return decoded;
                var parts = new List<RxNode>();
                var raw = new List<(int, int)>();
                raw.AddRange(Intersect(decoded.Ranges, NotSpecial));
                parts.Add(RxNode.Chars(raw));
                var specials = Intersect(decoded.Ranges, Specials);
                if (specials.Any(r => r.Item1 == 0 && r.Item2 == 0x1F))
                {
                    // Every control character (negated classes): one compact node instead of 32 alternatives.
                    parts.Add(AllControls);
                    specials.RemoveAll(r => r.Item1 == 0 && r.Item2 == 0x1F);
                }
                foreach (var (lo, hi) in specials)
                    for (int c = lo; c <= hi; c++) parts.Add(EscapeOf(c));
                return RxNode.Alt(parts);
            }
            case RxKind.Seq: return RxNode.Seq(decoded.Children.Select(Escape));
            case RxKind.Alt: return RxNode.Alt(decoded.Children.Select(Escape));
            case RxKind.Repeat: return RxNode.Repeat(Escape(decoded.Children[0]), decoded.Min, decoded.Max);
            default: return decoded;
        }
    }

    /// <summary>Characters a JSON string writes escaped (controls, quote, backslash), and the others.</summary>
    private static readonly (int Lo, int Hi)[] Specials = RxNode.Normalize([(0, 0x1F), ('"', '"'), ('\\', '\\')]),
        NotSpecial = RxNode.Complement(Specials, 0x10FFFF);

    private static bool HasSpecial((int Lo, int Hi)[] ranges)
    {
        foreach (var (lo, hi) in ranges)
            foreach (var (slo, shi) in Specials)
                if (lo <= shi && slo <= hi) return true;
        return false;
    }

    /// <summary>Any control character U+0000..U+001F written escaped: \u00XX, or a short form.</summary>
    private static readonly RxNode AllControls = RxNode.Seq(RxNode.Char('\\'), RxNode.Alt(
        RxNode.Chars([('b', 'b'), ('f', 'f'), ('n', 'n'), ('r', 'r'), ('t', 't')]),
        RxNode.Seq(RxNode.Literal("u00"), RxNode.Chars([('0', '1')]), RxNode.Chars([('0', '9'), ('A', 'F'), ('a', 'f')]))));

    private static RxNode EscapeOf(int c)
    {
        string? shortForm = c switch { '"' => "\\\"", '\\' => "\\\\", '\b' => "\\b", '\f' => "\\f", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => null };
        var hex = RxNode.Seq(RxNode.Literal("\\u00"), HexDigit(c >> 4), HexDigit(c & 15));
        return shortForm is null ? hex : RxNode.Alt(RxNode.Literal(shortForm), hex);
    }

    private static RxNode HexDigit(int d) => d < 10 ? RxNode.Char('0' + d) : RxNode.Chars([('a' + d - 10, 'a' + d - 10), ('A' + d - 10, 'A' + d - 10)]);

    internal static List<(int, int)> Intersect((int Lo, int Hi)[] a, (int Lo, int Hi)[] b)
    {
        var result = new List<(int, int)>();
        foreach (var x in a)
            foreach (var y in b)
            {
                int lo = Math.Max(x.Lo, y.Lo), hi = Math.Min(x.Hi, y.Hi);
                if (lo <= hi) result.Add((lo, hi));
            }
        return result;
    }
}
