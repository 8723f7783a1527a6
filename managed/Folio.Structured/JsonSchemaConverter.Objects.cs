using System.Text.Json.Nodes;

namespace Folio.Structured;

/// <summary>Objects, arrays and the any-value grammar.</summary>
public sealed partial class JsonSchemaConverter
{
    private RxNode ObjectValue(JsonObject o, string path)
    {
        var props = o["properties"] as JsonObject ?? (o["properties"] is null ? new JsonObject() : throw Bad("properties must be an object", path));
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (o["required"] is JsonArray req)
            foreach (var r in req) required.Add(Str(r) ?? throw Bad("required entries must be strings", path));
        else if (o["required"] is not null and not JsonArray) throw Bad("required must be an array", path);
        var additional = o["additionalProperties"];
        bool additionalFalse = additional is JsonValue av && av.GetValueKind() == System.Text.Json.JsonValueKind.False;

        var names = props.Select(p => p.Key).ToList();
        var schemas = props.Select(p => p.Value).ToList();
        // Required names without a property schema take the additional-properties schema.
        foreach (var name in required)
        {
            if (props.ContainsKey(name)) continue;
            if (additionalFalse) return RxNode.Nothing;
            names.Add(name);
            schemas.Add(additional?.DeepClone() ?? JsonValue.Create(true));
        }
        var members = new List<(RxNode Kv, bool Required)>();
        for (int i = 0; i < names.Count; i++)
        {
            string p = $"{path}/properties/{names[i]}";
            var value = Schema(schemas[i], p);
            bool isRequired = required.Contains(names[i]);
            if (value.Kind == RxKind.Nothing)
            {
                if (isRequired) return RxNode.Nothing;
                continue;   // a property that cannot have any value must be absent
            }
            members.Add((RxNode.Seq(RxNode.Literal(JsonText.Quote(names[i])), Colon, value), isRequired));
        }
        RxNode? extra = null;
        if (!additionalFalse)
        {
            var extraValue = additional is null ? AnyValue() : Schema(additional, path + "/additionalProperties");
            if (extraValue.Kind != RxKind.Nothing)
                extra = RxNode.Seq(ValueRule("key", RxNode.Seq(RxNode.Char('"'), JsonText.Escape(NotIn(names)), RxNode.Char('"'))), Colon, extraValue);
        }
        if (members.Count <= MaxAnyOrderProperties) return AnyOrder(members, extra);
        // Properties in schema order: "rest(i)" follows at least one written member (each needs a comma);
        // "first(i)" has written none yet. first(i) for an optional member = member rest(i+1) | first(i+1).
        var restTail = extra is null ? RxNode.Empty : RxNode.Repeat(RxNode.Seq(Comma, extra), 0, -1);
        var firstTail = extra is null ? RxNode.Empty : RxNode.Optional(RxNode.Seq(extra, restTail));
        // Each tail is a rule: the alternative that starts at member i and the tail before it both continue with it.
        // Inline, every alternative's terminal spelled the rest of the object (quadratic text and automata: up to
        // 22 M characters of automaton keys and 300 ms for one schema of MaskBench).
        int id = _objectRules++;
        var rest = new RxNode[members.Count + 1];
        rest[members.Count] = restTail;
        for (int i = members.Count - 1; i >= 1; i--)
        {
            var withComma = RxNode.Seq(Comma, members[i].Kv);
            _def.Add($"object{id}-rest{i}", RxNode.Seq(members[i].Required ? withComma : RxNode.Optional(withComma), rest[i + 1]));
            rest[i] = RxNode.Ref($"object{id}-rest{i}");
        }
        var first = firstTail;
        for (int i = members.Count - 1; i >= 0; i--)
        {
            var take = RxNode.Seq(members[i].Kv, rest[i + 1]);
            first = members[i].Required ? take : RxNode.Alt(take, first);
        }
        return RxNode.Seq(RxNode.Char('{'), first, RxNode.Char('}'));
    }

    /// <summary>Objects with at most this many declared properties accept them in any order (2^n rules).</summary>
    public const int MaxAnyOrderProperties = 10;

    /// <summary>
    /// Members in any order, each at most once, every required one present: one rule per set of members already
    /// written (a bitmask), whose alternatives close the object (when the required ones are in) or write one more.
    /// Additional members (keys that are none of the declared names) may come anywhere. Each member is its own rule,
    /// referenced from the 2^n sets, so a large value is lowered once, not once per set.
    /// </summary>
    private RxNode AnyOrder(List<(RxNode Kv, bool Required)> members, RxNode? extra)
    {
        int n = members.Count, id = _objectRules++;
        int required = 0;
        for (int i = 0; i < n; i++) if (members[i].Required) required |= 1 << i;
        // The sets' rules are referenced (n + 1)·2^n times: their names and references are made once each.
        var setRef = new RxNode[1 << n];
        for (int set = 0; set < setRef.Length; set++) setRef[set] = RxNode.Ref($"object{id}-{set}");
        // A member after a comma is a rule too ("next"), so the sets' alternatives are two references each and
        // lowering makes no terminal per alternative (the comma was one, 2^n·n times).
        var kv = new RxNode[n];
        var next = new RxNode[n];
        for (int i = 0; i < n; i++)
        {
            _def.Add($"object{id}-member{i}", members[i].Kv);
            kv[i] = RxNode.Ref($"object{id}-member{i}");
            _def.Add($"object{id}-next{i}", RxNode.Seq(Comma, kv[i]));
            next[i] = RxNode.Ref($"object{id}-next{i}");
        }
        RxNode? extraRef = null, nextExtra = null;
        if (extra is not null)
        {
            _def.Add($"object{id}-extra", extra);
            extraRef = RxNode.Ref($"object{id}-extra");
            _def.Add($"object{id}-nextextra", RxNode.Seq(Comma, extraRef));
            nextExtra = RxNode.Ref($"object{id}-nextextra");
        }
        var close = RxNode.Char('}');
        for (int set = 0; set < 1 << n; set++)
        {
            var alts = new List<RxNode>(n + 2);
            if ((set & required) == required) alts.Add(close);
            for (int i = 0; i < n; i++)
                if ((set & (1 << i)) == 0) alts.Add(RxNode.Seq(next[i], setRef[set | 1 << i]));
            if (nextExtra is not null) alts.Add(RxNode.Seq(nextExtra, setRef[set]));
            _def.Add($"object{id}-{set}", RxNode.Alt(alts));
        }
        var first = new List<RxNode>();
        if (required == 0) first.Add(close);
        for (int i = 0; i < n; i++) first.Add(RxNode.Seq(kv[i], setRef[1 << i]));
        if (extraRef is not null) first.Add(RxNode.Seq(extraRef, setRef[0]));
        return RxNode.Seq(RxNode.Char('{'), RxNode.Alt(first));
    }

    /// <summary>
    /// Decoded strings not equal to any of <paramref name="names"/>: a name's proper prefix that is no name, or a
    /// prefix of the name trie (possibly empty or a whole name) followed by a character that no name continues with
    /// there, then anything. The "then anything" tail appears once, not once per trie node: a character in no name at
    /// all diverges at every node (one shared class), and a character of some name diverges where no name continues
    /// with it (per node, but such classes are a few letters). With a tail per node the automaton had a copy of the
    /// any-string states for every node (14,000–20,000 states and 50–150 ms of construction for objects with many
    /// long property names).
    /// </summary>
    private static RxNode NotIn(IReadOnlyCollection<string> names)
    {
        var any = RxNode.Repeat(RxNode.AnyChar, 0, -1);
        if (names.Count == 0) return any;
        var runes = names.Select(n => n.EnumerateRunes().Select(r => r.Value).ToArray()).ToList();
        var inNames = RxNode.Normalize(runes.SelectMany(w => w).Select(c => (c, c)));
        var nowhere = RxNode.Complement(RxNode.Normalize([.. inNames, (0xD800, 0xDFFF)]), 0x10FFFF);
        return RxNode.Alt(
            ProperPrefixes(runes, 0),
            RxNode.Seq(TriePrefixes(runes, 0), RxNode.Chars(nowhere), any),
            RxNode.Seq(DivergeInNames(runes, 0, inNames), any));
    }

    /// <summary>Prefixes of the words (all sharing the first <paramref name="depth"/> characters) that are no word.</summary>
    private static RxNode ProperPrefixes(List<int[]> words, int depth)
    {
        var parts = new List<RxNode>();
        if (!words.Any(w => w.Length == depth)) parts.Add(RxNode.Empty);
        foreach (var g in words.Where(w => w.Length > depth).GroupBy(w => w[depth]))
            parts.Add(RxNode.Seq(RxNode.Char(g.Key), ProperPrefixes(g.ToList(), depth + 1)));
        return parts.Count == 0 ? RxNode.Nothing : RxNode.Alt(parts);
    }

    /// <summary>Every prefix of the words from <paramref name="depth"/> on (the empty one and whole words included).</summary>
    private static RxNode TriePrefixes(List<int[]> words, int depth)
    {
        var parts = new List<RxNode> { RxNode.Empty };
        foreach (var g in words.Where(w => w.Length > depth).GroupBy(w => w[depth]))
            parts.Add(RxNode.Seq(RxNode.Char(g.Key), TriePrefixes(g.ToList(), depth + 1)));
        return RxNode.Alt(parts);
    }

    /// <summary>A trie prefix, then a character that occurs in some name (<paramref name="inNames"/>) but continues none here.</summary>
    private static RxNode DivergeInNames(List<int[]> words, int depth, (int Lo, int Hi)[] inNames)
    {
        var groups = words.Where(w => w.Length > depth).GroupBy(w => w[depth]).ToList();
        var used = RxNode.Normalize(groups.Select(g => (g.Key, g.Key)));
        var here = JsonText.Intersect(inNames, RxNode.Complement(used, 0x10FFFF));
        var parts = new List<RxNode>();
        if (here.Count > 0) parts.Add(RxNode.Chars(here));
        foreach (var g in groups)
            parts.Add(RxNode.Seq(RxNode.Char(g.Key), DivergeInNames(g.ToList(), depth + 1, inNames)));
        return parts.Count == 0 ? RxNode.Nothing : RxNode.Alt(parts);
    }

    private RxNode ArrayValue(JsonObject o, string path)
    {
        int min = IntKeyword(o, "minItems", path) ?? 0;
        int? maxOrNull = IntKeyword(o, "maxItems", path);
        int max = maxOrNull ?? -1;
        if (max >= 0 && max < min) return RxNode.Nothing;
        var prefix = new List<RxNode>();
        JsonNode? restSchema;
        if (o["prefixItems"] is JsonArray pi)
        {
            for (int i = 0; i < pi.Count; i++) prefix.Add(Schema(pi[i], $"{path}/prefixItems/{i}"));
            restSchema = o["items"];
        }
        else if (o["items"] is JsonArray tuple)
        {
            for (int i = 0; i < tuple.Count; i++) prefix.Add(Schema(tuple[i], $"{path}/items/{i}"));
            restSchema = o["additionalItems"];
        }
        else restSchema = o["items"];
        RxNode? rest = restSchema is null ? AnyValue() : Schema(restSchema, path + (o["prefixItems"] is null && o["items"] is JsonArray ? "/additionalItems" : "/items"));
        if (rest.Kind == RxKind.Nothing) rest = null;
        if (max > RegexParser.MaxRepeat || min > RegexParser.MaxRepeat)
            throw Refuse(min > RegexParser.MaxRepeat ? "minItems" : "maxItems", path + $" (over {RegexParser.MaxRepeat})");

        // Elements from position i on, i > 0 (each preceded by a comma).
        RxNode Tail(int i)
        {
            if (i >= prefix.Count)
            {
                if (rest is null) return min > i ? RxNode.Nothing : RxNode.Empty;
                int lo = Math.Max(0, min - i), hi = max < 0 ? -1 : max - i;
                return hi == 0 ? (lo == 0 ? RxNode.Empty : RxNode.Nothing) : RxNode.Repeat(RxNode.Seq(Comma, rest), lo, hi);
            }
            if (max >= 0 && i >= max) return RxNode.Empty;
            var item = RxNode.Seq(Comma, prefix[i], Tail(i + 1));
            return i >= min ? RxNode.Optional(item) : item;
        }

        RxNode body;
        if (max == 0) body = RxNode.Empty;
        else if (prefix.Count > 0)
        {
            var item = RxNode.Seq(prefix[0], Tail(1));
            body = min > 0 ? item : RxNode.Optional(item);
        }
        else if (rest is null) body = min > 0 ? RxNode.Nothing : RxNode.Empty;
        else
        {
            var more = RxNode.Repeat(RxNode.Seq(Comma, rest), Math.Max(0, min - 1), max < 0 ? -1 : max - 1);
            var item = RxNode.Seq(rest, more);
            body = min > 0 ? item : RxNode.Optional(item);
        }
        if (body.Kind == RxKind.Nothing) return RxNode.Nothing;
        return RxNode.Seq(RxNode.Char('['), body, RxNode.Char(']'));
    }

    /// <summary>Any JSON value (rules added once).</summary>
    private RxNode AnyValue()
    {
        if (!_def.Contains("json-value"))
        {
            const string Int = "-?(0|[1-9][0-9]*)";
            _def.Add("json-string", RxNode.Seq(RxNode.Char('"'), RxNode.Repeat(JsonText.AnyStringChar, 0, -1), RxNode.Char('"')));
            _def.Add("json-number", RegexParser.ParseFullMatch(Int + @"(\.[0-9]+)?([eE][+-]?[0-9]+)?"));
            var value = RxNode.Ref("json-value");
            var member = RxNode.Seq(RxNode.Ref("json-string"), Colon, value);
            _def.Add("json-object", RxNode.Seq(RxNode.Char('{'), RxNode.Optional(RxNode.Seq(member, RxNode.Repeat(RxNode.Seq(Comma, member), 0, -1))), RxNode.Char('}')));
            _def.Add("json-array", RxNode.Seq(RxNode.Char('['), RxNode.Optional(RxNode.Seq(value, RxNode.Repeat(RxNode.Seq(Comma, value), 0, -1))), RxNode.Char(']')));
            _def.Add("json-value", RxNode.Alt(RxNode.Ref("json-object"), RxNode.Ref("json-array"), RxNode.Ref("json-string"), RxNode.Ref("json-number"),
                RxNode.Literal("true"), RxNode.Literal("false"), RxNode.Literal("null")));
        }
        return RxNode.Ref("json-value");
    }

    private RxNode AnyObject()
    {
        AnyValue();
        return RxNode.Ref("json-object");
    }
}
