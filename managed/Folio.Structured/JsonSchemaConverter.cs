using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Folio.Structured;

/// <summary>
/// JSON Schema (drafts 4 to 2020-12) → <see cref="GrammarDefinition"/> of the JSON texts that validate. Assertion
/// keywords it cannot enforce are refused with their JSON path; annotations and unknown keywords are ignored.
/// Objects list properties in schema order; <c>oneOf</c> is matched as <c>anyOf</c> (see docs/STRUCTURED_OUTPUT.md).
/// </summary>
public sealed partial class JsonSchemaConverter
{
    /// <summary>Assertions this converter refuses (it cannot enforce them with a context-free grammar, or not yet).</summary>
    private static readonly HashSet<string> Unsupported =
    [
        "multipleOf", "patternProperties", "propertyNames", "minProperties", "maxProperties", "dependencies",
        "dependentRequired", "dependentSchemas", "if", "then", "else", "not", "uniqueItems", "contains",
        "minContains", "maxContains", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$recursiveRef",
    ];

    /// <summary>Keywords that constrain (everything else is an annotation or unknown, and ignored).</summary>
    private static readonly HashSet<string> Assertions =
    [
        "type", "enum", "const", "properties", "required", "additionalProperties", "items", "prefixItems",
        "additionalItems", "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf", "oneOf", "allOf", "$ref",
    ];

    private static readonly string[] AllTypes = ["object", "array", "string", "number", "boolean", "null"];

    private readonly JsonNode _root;
    private readonly GrammarDefinition _def = new("root");
    private readonly JsonSchemaOptions _options;
    private readonly Dictionary<string, string> _refRules = new(StringComparer.Ordinal);
    private readonly Queue<(string Pointer, string Rule)> _pendingRefs = new();
    private readonly Dictionary<string, string> _valueRules = new(StringComparer.Ordinal);
    private int _mergeDepth;
    private int _objectRules;
    private int _mergedSchemas;

    private JsonSchemaConverter(JsonNode root, JsonSchemaOptions options)
    {
        _root = root;
        _options = options;
        _refIgnoresSiblings = root is JsonObject o && Str(o["$schema"]) is { } draft && IsDraft7OrOlder(draft);
    }

    /// <summary>Drafts 3 to 7 say a <c>$ref</c> replaces its schema object: keywords beside it are ignored. From
    /// 2019-09 on they apply too (merged here). The root's <c>$schema</c> decides, as validators do.</summary>
    private readonly bool _refIgnoresSiblings;

    private static bool IsDraft7OrOlder(string schemaUri) =>
        schemaUri.Contains("draft-03", StringComparison.Ordinal) || schemaUri.Contains("draft-04", StringComparison.Ordinal) ||
        schemaUri.Contains("draft-06", StringComparison.Ordinal) || schemaUri.Contains("draft-07", StringComparison.Ordinal);

    /// <summary>Parses and converts a schema; every problem is a <see cref="GrammarException"/>.</summary>
    public static GrammarDefinition Convert(string schemaText, JsonSchemaOptions? options = null)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(schemaText);
        }
        catch (JsonException e)
        {
            throw new GrammarException($"malformed JSON schema: {e.Message}");
        }
        if (root is null) throw new GrammarException("malformed JSON schema: null is not a schema");
        var c = new JsonSchemaConverter(root, options ?? new JsonSchemaOptions());
        try
        {
            c._def.Add("root", c.Schema(root, "#"));
            while (c._pendingRefs.Count > 0)
            {
                var (pointer, rule) = c._pendingRefs.Dequeue();
                c._def.Add(rule, c.Schema(c.Resolve(pointer, pointer), pointer));
            }
        }
        catch (InsufficientExecutionStackException)
        {
            // System.Text.Json's own deep comparisons check the stack too.
            throw new GrammarException("schema nested too deeply");
        }
        return c._def;
    }

    /// <summary>The grammar of any JSON value (<c>json_object</c> mode uses <c>json-object</c> as the start).</summary>
    public static GrammarDefinition AnyJson(bool objectOnly, JsonSchemaOptions? options = null)
    {
        var c = new JsonSchemaConverter(new JsonObject(), options ?? new JsonSchemaOptions());
        c._def.Add("root", objectOnly ? c.AnyObject() : c.AnyValue());
        return c._def;
    }

    // One node each per converter: every member and element uses them (an any-order object's 2^n sets many times).
    private RxNode Colon => _colon ??= _options.SpaceAfterSeparators ? RxNode.Seq(RxNode.Char(':'), RxNode.Optional(RxNode.Char(' '))) : RxNode.Char(':');
    private RxNode Comma => _comma ??= _options.SpaceAfterSeparators ? RxNode.Seq(RxNode.Char(','), RxNode.Optional(RxNode.Char(' '))) : RxNode.Char(',');
    private RxNode? _colon, _comma;

    private static GrammarException Refuse(string keyword, string path) => new($"unsupported keyword '{keyword}' at {path}");
    private static GrammarException Bad(string what, string path) => new($"invalid schema at {path}: {what}");

    private RxNode Schema(JsonNode? node, string path)
    {
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new GrammarException($"schema nested too deeply at {path}");
        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
            return v.GetValue<bool>() ? AnyValue() : RxNode.Nothing;
        if (node is not JsonObject o) throw Bad("a schema must be an object or a boolean", path);
        if (_refIgnoresSiblings && o["$ref"] is JsonNode onlyRef)
            return RxNode.Ref(RefRule(Str(onlyRef) ?? throw Bad("$ref must be a string", path), path));
        if (o.ContainsKey("not"))
            return WithoutNot(o, path) is { } rewritten ? Schema(rewritten, path) : RxNode.Nothing;
        foreach (var (key, value) in o)
        {
            if (!Unsupported.Contains(key)) continue;
            // Trivially true forms are fine.
            if (key == "uniqueItems" && value is JsonValue u && u.GetValueKind() == JsonValueKind.False) continue;
            if (key == "minProperties" && value is JsonValue mp && mp.TryGetValue(out int m) && m == 0) continue;
            throw Refuse(key, path);
        }
        if (o["$ref"] is JsonNode r)
        {
            string pointer = r is JsonValue rv && rv.TryGetValue(out string? s) ? s : throw Bad("$ref must be a string", path);
            if (!HasAssertions(o, "$ref")) return RxNode.Ref(RefRule(pointer, path));
            return Merged([WithoutKey(o, "$ref"), Resolve(pointer, path)], path);
        }
        if (o["allOf"] is JsonNode all)
        {
            if (all is not JsonArray parts || parts.Count == 0) throw Bad("allOf must be a non-empty array", path);
            var list = new List<JsonNode?> { WithoutKey(o, "allOf") };
            list.AddRange(parts);
            return Merged(list, path);
        }
        foreach (string key in (ReadOnlySpan<string>)["anyOf", "oneOf"])
        {
            if (o[key] is not JsonNode any) continue;
            if (any is not JsonArray branches || branches.Count == 0) throw Bad($"{key} must be a non-empty array", path);
            var rest = WithoutKey(o, key);
            if (key == "oneOf")
                CheckOneOfDisjoint(HasAssertions(rest) ? [.. branches.Select(b => MergeAll([rest, b], path))] : [.. branches], path);
            var alts = new List<RxNode>();
            for (int i = 0; i < branches.Count; i++)
            {
                string bp = $"{path}/{key}/{i}";
                alts.Add(HasAssertions(rest) ? Merged([rest, branches[i]], bp) : Schema(branches[i], bp));
            }
            return RxNode.Alt(alts);
        }
        var types = Types(o, path);
        if (o["const"] is JsonNode || o.ContainsKey("const"))
            return JsonLiterals.Literals([o["const"]], types);
        if (o["enum"] is JsonNode e)
        {
            if (e is not JsonArray values) throw Bad("enum must be an array", path);
            return JsonLiterals.Literals([.. values], types);
        }
        if (!HasAssertions(o)) return AnyValue();
        var alternatives = new List<RxNode>();
        foreach (string t in types)
        {
            alternatives.Add(t switch
            {
                "object" => ObjectValue(o, path),
                "array" => ArrayValue(o, path),
                "string" => StringValue(o, path),
                "number" => NumberValue(o, path, integer: false),
                "integer" => NumberValue(o, path, integer: true),
                "boolean" => RxNode.Alt(RxNode.Literal("true"), RxNode.Literal("false")),
                "null" => RxNode.Literal("null"),
                _ => throw Bad($"unknown type '{t}'", path),
            });
        }
        return RxNode.Alt(alternatives);
    }

    /// <summary>The schema of merged parts; merges inside merges are counted, so a recursive allOf is refused.</summary>
    private RxNode Merged(IReadOnlyList<JsonNode?> parts, string path)
    {
        if (++_mergedSchemas > MaxMergeDepth) throw Refuse("allOf", path + " (recursive or too deeply nested)");
        try
        {
            return Schema(MergeAll(parts, path), path);
        }
        finally
        {
            _mergedSchemas--;
        }
    }

    private static bool HasAssertions(JsonObject o, string? except = null) =>
        o.Any(p => p.Key != except && Assertions.Contains(p.Key) && !(p.Key == "format" && !StringFormats.IsSpecFormat(Str(p.Value) ?? "")));

    private static JsonObject WithoutKey(JsonObject o, string key)
    {
        var copy = new JsonObject();
        foreach (var (k, v) in o) if (k != key) copy[k] = v?.DeepClone();
        return copy;
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    /// <summary>The types a schema allows: its <c>type</c> (string or array), else all of them; "integer" inside "number" dropped.</summary>
    private static List<string> Types(JsonObject o, string path)
    {
        var types = new List<string>();
        switch (o["type"])
        {
            case null: types.AddRange(AllTypes); break;
            case JsonArray a:
                foreach (var t in a) types.Add(Str(t) ?? throw Bad("type entries must be strings", path));
                break;
            case var t: types.Add(Str(t) ?? throw Bad("type must be a string or an array", path)); break;
        }
        if (types.Contains("number")) types.Remove("integer");
        return types.Distinct().ToList();
    }

    /// <summary>A rule for a $ref target (converted once, so recursion terminates).</summary>
    private string RefRule(string pointer, string path)
    {
        if (_refRules.TryGetValue(pointer, out var rule)) return rule;
        Resolve(pointer, path);   // fail now, with the referring path
        rule = "ref:" + pointer;
        _refRules[pointer] = rule;
        _pendingRefs.Enqueue((pointer, rule));
        return rule;
    }

    private JsonNode? Resolve(string pointer, string path)
    {
        if (!pointer.StartsWith('#'))
        {
            // A ref relative to the root's own $id is local.
            string? id = Str(_root["$id"]) ?? Str(_root["id"]);
            int hash = pointer.IndexOf('#');
            if (id is null || !(hash >= 0 ? pointer[..hash] : pointer).Equals(id.TrimEnd('#'), StringComparison.Ordinal))
                throw new GrammarException($"unsupported $ref '{pointer}' at {path} (only local references)");
            pointer = hash >= 0 ? pointer[hash..] : "#";
        }
        JsonNode? cur = _root;
        if (pointer.Length > 1 && pointer[1] != '/') throw new GrammarException($"unsupported $ref '{pointer}' at {path} (anchors)");
        foreach (var raw in pointer.Length <= 2 ? [] : pointer[2..].Split('/'))
        {
            string part = Uri.UnescapeDataString(raw).Replace("~1", "/").Replace("~0", "~");
            cur = cur switch
            {
                JsonObject o when o.TryGetPropertyValue(part, out var next) => next,
                JsonArray a when int.TryParse(part, out int i) && i >= 0 && i < a.Count => a[i],
                _ => throw new GrammarException($"invalid schema at {path}: $ref '{pointer}' does not resolve"),
            };
        }
        return cur;
    }

    /// <summary>Wraps a value expression in a rule named by its canonical text, so equal values share one terminal.</summary>
    private RxNode ValueRule(string prefix, RxNode node)
    {
        if (node.Kind == RxKind.Nothing) return node;
        string key = node.ToString();
        if (!_valueRules.TryGetValue(key, out var name))
        {
            name = $"{prefix}{_valueRules.Count}";
            _valueRules[key] = name;
            _def.Add(name, node);
        }
        return RxNode.Ref(name);
    }

    private RxNode StringValue(JsonObject o, string path)
    {
        int? minLen = IntKeyword(o, "minLength", path), maxLen = IntKeyword(o, "maxLength", path);
        string? pattern = Str(o["pattern"]);
        if (o["pattern"] is not null && pattern is null) throw Bad("pattern must be a string", path);
        string? format = Str(o["format"]);
        string? formatPattern = format is null ? null : StringFormats.Pattern(format);
        if (format is not null && formatPattern is null && StringFormats.IsSpecFormat(format))
            throw new GrammarException($"unsupported format '{format}' at {path}");
        bool lengths = (minLen ?? 0) > 0 || maxLen is not null;
        if (maxLen < minLen) return RxNode.Nothing;
        // Each constraint is a language of escaped string bodies; several together are their intersection
        // (JSON escapes split a body into characters one way only, so counting escaped characters counts code points).
        var parts = new List<RxNode>();
        if (formatPattern is not null) parts.Add(JsonText.Escape(RegexParser.ParseFullMatch(formatPattern)));
        if (pattern is not null) parts.Add(JsonText.Escape(RegexParser.ParseSearch(pattern)));
        if (lengths) parts.Add(RxNode.Repeat(JsonText.CountedStringChar, minLen ?? 0, maxLen ?? -1));
        var body = parts.Count == 0 ? RxNode.Repeat(JsonText.AnyStringChar, 0, -1) : parts[0];
        for (int i = 1; i < parts.Count; i++) body = RxNode.And(body, parts[i]);
        return ValueRule("string", RxNode.Seq(RxNode.Char('"'), body, RxNode.Char('"')));
    }

    private static int? IntKeyword(JsonObject o, string key, string path)
    {
        if (o[key] is not JsonNode n) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && decimal.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && d >= 0 && d == decimal.Truncate(d))
            return d > int.MaxValue ? int.MaxValue : (int)d;
        throw Bad($"{key} must be a non-negative integer", path);
    }

    private RxNode NumberValue(JsonObject o, string path, bool integer)
    {
        var (lo, loStrict) = Bound(o, "minimum", "exclusiveMinimum", path);
        var (hi, hiStrict) = Bound(o, "maximum", "exclusiveMaximum", path);
        if (lo is null && hi is null)
        {
            const string Int = "-?(0|[1-9][0-9]*)";
            return ValueRule("number", RegexParser.ParseFullMatch(integer ? Int : Int + @"(\.[0-9]+)?([eE][+-]?[0-9]+)?"));
        }
        if (integer)
        {
            BigInteger? l = lo is { } a ? (loStrict ? Floor(a) + 1 : Ceiling(a)) : null;
            BigInteger? h = hi is { } b ? (hiStrict ? Ceiling(b) - 1 : Floor(b)) : null;
            return ValueRule("number", NumberRanges.Integers(l, h));
        }
        if ((lo is { } x && x != decimal.Truncate(x)) || (hi is { } y && y != decimal.Truncate(y)))
            throw Refuse(lo is { } x2 && x2 != decimal.Truncate(x2) ? "minimum" : "maximum", path + " (a fractional bound on a number)");
        return ValueRule("number", NumberRanges.Decimals(lo is { } l2 ? new BigInteger(l2) : null, loStrict, hi is { } h2 ? new BigInteger(h2) : null, hiStrict));
    }

    private static BigInteger Floor(decimal d) => new(decimal.Floor(d));
    private static BigInteger Ceiling(decimal d) => new(decimal.Ceiling(d));

    /// <summary>A bound from draft 6+ (exclusive* numbers) or draft 4 (exclusive* booleans) forms; the tighter of both.</summary>
    private static (decimal? Value, bool Strict) Bound(JsonObject o, string inclusive, string exclusive, string path)
    {
        decimal? inc = Num(o[inclusive], inclusive, path);
        bool strict = false;
        decimal? value = inc;
        if (o[exclusive] is JsonValue ev)
        {
            if (ev.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                strict = ev.GetValue<bool>() && inc is not null;
            else if (Num(ev, exclusive, path) is { } ex)
            {
                bool lower = inclusive == "minimum";
                if (inc is null || (lower ? ex >= inc : ex <= inc)) { value = ex; strict = true; }
            }
        }
        return (value, strict);
    }

    private static decimal? Num(JsonNode? n, string key, string path)
    {
        if (n is null) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (decimal.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)) return d;
            throw Refuse(key, path + " (a bound out of range)");
        }
        throw Bad($"{key} must be a number", path);
    }
}
