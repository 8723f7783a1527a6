namespace Folio.Structured.Tests;

public class JsonSchemaTests
{
    private static void Is(string schema, string json, bool expected) => Assert.Equal(expected, Check.Accepts(Check.Schema(schema), json));

    [Theory]
    [InlineData("""{"type":"string"}""", "\"hi\"", true)]
    [InlineData("""{"type":"string"}""", "\"a\\\"b\\\\c\\u00e9\\n\"", true)]
    [InlineData("""{"type":"string"}""", "\"a\nb\"", false)]
    [InlineData("""{"type":"string"}""", "12", false)]
    [InlineData("""{"type":"integer"}""", "-120", true)]
    [InlineData("""{"type":"integer"}""", "012", false)]
    [InlineData("""{"type":"integer"}""", "1.5", false)]
    [InlineData("""{"type":"number"}""", "-1.5e+3", true)]
    [InlineData("""{"type":"number"}""", "1.", false)]
    [InlineData("""{"type":"boolean"}""", "false", true)]
    [InlineData("""{"type":"null"}""", "null", true)]
    [InlineData("""{"type":["string","null"]}""", "null", true)]
    [InlineData("""{"type":["string","null"]}""", "\"x\"", true)]
    [InlineData("""{"type":["string","null"]}""", "1", false)]
    [InlineData("""{}""", """{"a":[1,{"b":null}],"c":"d"}""", true)]
    [InlineData("""true""", "[true, false]", true)]
    public void Types(string schema, string json, bool expected) => Is(schema, json, expected);

    private const string Person = """
        {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}},
         "required":["name"],"additionalProperties":false}
        """;

    [Theory]
    [InlineData("""{"name":"Al"}""", true)]
    [InlineData("""{"name":"Al","age":3}""", true)]
    [InlineData("""{"name": "Al", "age": 3}""", true)]          // one space after ':' and ','
    [InlineData("""{"name":  "Al"}""", false)]                  // but no more
    [InlineData("""{ "name":"Al"}""", false)]
    [InlineData("""{"name":"Al","tags":["x","y"]}""", true)]
    [InlineData("""{"age":3,"name":"Al"}""", true)]              // any order (up to 10 declared properties)
    [InlineData("""{"name":"Al","age":3,"name":"Bo"}""", false)] // but each once
    [InlineData("""{"age":3}""", false)]                        // required missing
    [InlineData("""{"name":"Al","zip":1}""", false)]            // additionalProperties false
    [InlineData("""{"name":"Al","age":"3"}""", false)]
    [InlineData("""{}""", false)]
    public void Properties(string json, bool expected) => Is(Person, json, expected);

    [Theory]
    [InlineData("""{"a":1,"other":"x"}""", true)]
    [InlineData("""{"a":1,"a":"x"}""", false)]                  // an extra key may not reuse a declared name
    [InlineData("""{"other":true}""", false)]
    public void AdditionalPropertiesSchema(string json, bool expected) =>
        Is("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}}""", json, expected);

    // Extra keys (integer values) are every string but the declared names (string values): "ab", "abc", "bé", "x"
    // (shared prefixes, a name that is a prefix of another, a non-ASCII character); each key below is written as in
    // JSON text, either side of the names' trie edges.
    [Theory]
    [InlineData(@"ab", false)]
    [InlineData(@"abc", false)]
    [InlineData(@"bé", false)]
    [InlineData(@"x", false)]
    [InlineData(@"", true)]
    [InlineData(@"a", true)]            // a proper prefix of a name
    [InlineData(@"b", true)]
    [InlineData(@"abcd", true)]         // a name, then more
    [InlineData(@"abx", true)]          // diverges with a character another name uses
    [InlineData(@"abz", true)]          // diverges with a character no name uses
    [InlineData(@"aé", true)]           // diverges with a non-ASCII character some name uses
    [InlineData(@"ab中", true)]         // a name, then a character in no name
    [InlineData(@"é", true)]
    [InlineData(@"xx", true)]
    [InlineData(@"béé", true)]
    [InlineData(@"a\\b", true)]         // an escaped backslash (in no name)
    [InlineData(@"ab\n", true)]         // a control character, escaped
    [InlineData(@"ab\u0063", false)]    // "abc" escaped: a declared name (and printable characters are not escaped)
    public void ExtraKeysAreNoDeclaredName(string key, bool expected) =>
        Is("""{"type":"object","properties":{"ab":{"type":"string"},"abc":{"type":"string"},"bé":{"type":"string"},"x":{"type":"string"}},"additionalProperties":{"type":"integer"}}""",
            "{\"" + key + "\":1}", expected);

    // The same for random name sets over a four-character alphabet (a non-ASCII letter and a quote among them): every
    // key of up to 3 characters is an extra key exactly when it is none of the names.
    [Fact]
    public void ExtraKeysAreNoDeclaredNameForRandomNameSets()
    {
        string[] alphabet = ["a", "b", "é", "\""];
        var keys = new List<string> { "" };
        for (int len = 1; len <= 3; len++)
            keys.AddRange(keys.Where(k => k.Length == len - 1).SelectMany(k => alphabet.Select(c => k + c)).ToList());
        var random = new Random(17);
        for (int round = 0; round < 12; round++)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            int count = random.Next(1, 5);
            while (names.Count < count)
                names.Add(string.Concat(Enumerable.Range(0, random.Next(0, 4)).Select(_ => alphabet[random.Next(alphabet.Length)])));
            string props = string.Join(",", names.Select(n => $"\"{Json(n)}\":{{\"type\":\"string\"}}"));
            var g = Check.Schema("""{"type":"object","properties":{""" + props + """},"additionalProperties":{"type":"integer"}}""");
            foreach (var key in keys)
                Assert.True(Check.Accepts(g, "{\"" + Json(key) + "\":1}") == !names.Contains(key),
                    $"names [{string.Join(", ", names)}], key '{key}'");
        }
        static string Json(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
    }

    [Fact]
    public void ManyPropertiesFollowSchemaOrder()
    {
        const string schema = """{"type":"object","properties":{"a":{},"b":{},"c":{},"d":{},"e":{},"f":{},"h":{},"i":{},"j":{},"k":{},"g":{}},"required":["a","g"],"additionalProperties":false}""";
        Is(schema, """{"a":1,"c":2,"g":3}""", true);
        Is(schema, """{"c":2,"a":1,"g":3}""", false);
        Is(schema, """{"a":1,"c":2}""", false);
    }

    [Fact]
    public void AdditionalPropertiesDefaultToAnyValue() =>
        Is("""{"type":"object","properties":{"a":{"type":"integer"}}}""", """{"a":1,"b":[null]}""", true);

    [Theory]
    [InlineData("[]", false)]
    [InlineData("[1]", true)]
    [InlineData("[1,2,3]", true)]
    [InlineData("[1,2,3,4]", false)]
    [InlineData("[1, 2]", true)]
    public void MinMaxItems(string json, bool expected) => Is("""{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3}""", json, expected);

    [Theory]
    [InlineData("""[1,"a"]""", true)]
    [InlineData("""[1]""", true)]
    [InlineData("""[1,"a",true]""", true)]
    [InlineData("""[1,"a",3]""", false)]
    [InlineData("""["a"]""", false)]
    public void PrefixItems(string json, bool expected) =>
        Is("""{"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":{"type":"boolean"}}""", json, expected);

    [Theory]
    [InlineData("""[1,"a"]""", true)]
    [InlineData("""[1,"a",null]""", false)]
    public void Draft4TupleItems(string json, bool expected) =>
        Is("""{"type":"array","items":[{"type":"integer"},{"type":"string"}],"additionalItems":false}""", json, expected);

    [Theory]
    [InlineData("\"red\"", true)]
    [InlineData("3", true)]
    [InlineData("""{"x":[1]}""", true)]
    [InlineData("\"blue\"", false)]
    public void Enum(string json, bool expected) => Is("""{"enum":["red",3,{"x":[1]}]}""", json, expected);

    [Fact]
    public void Const()
    {
        Is("""{"const":"v1"}""", "\"v1\"", true);
        Is("""{"const":"v1"}""", "\"v2\"", false);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("\"s\"", true)]
    [InlineData("null", false)]
    public void AnyOfAndOneOf(string json, bool expected)
    {
        Is("""{"anyOf":[{"type":"integer"},{"type":"string"}]}""", json, expected);
        Is("""{"oneOf":[{"type":"integer"},{"type":"string"}]}""", json, expected);
    }

    [Theory]
    [InlineData("""{"kind":"a","x":1}""", true)]
    [InlineData("""{"kind":"b","y":"s"}""", true)]
    [InlineData("""{"kind":"a","y":"s"}""", false)]
    public void OneOfWithDisjointConstantsIsAccepted(string json, bool expected) =>
        Is("""{"oneOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind","x"],"additionalProperties":false},{"type":"object","properties":{"kind":{"enum":["b"]},"y":{"type":"string"}},"required":["kind"],"additionalProperties":false}]}""", json, expected);

    [Theory]
    [InlineData("""{"a":1,"b":"x"}""", true)]
    [InlineData("""{"a":1}""", false)]
    [InlineData("""{"b":"x"}""", false)]
    [InlineData("""{"a":1,"b":2}""", false)]
    public void AllOfMerges(string json, bool expected) =>
        Is("""{"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"properties":{"b":{"type":"string"}},"required":["b"]}]}""", json, expected);

    [Fact]
    public void AllOfKeepsAdditionalPropertiesFalseToItsOwnBranch() =>
        // additionalProperties sees only its own schema's properties: "a" is forbidden by the second branch and
        // required by the first, so nothing validates (as JSON Schema says).
        Assert.Contains("no string satisfies", Check.SchemaError(
            """{"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"properties":{"b":{"type":"string"}},"required":["b"],"additionalProperties":false}]}"""));

    private const string Tree = """
        {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"],"additionalProperties":false}}}
        """;

    [Theory]
    [InlineData("""{"v":1}""", true)]
    [InlineData("""{"v":1,"kids":[{"v":2,"kids":[{"v":3}]},{"v":4}]}""", true)]
    [InlineData("""{"v":1,"kids":[{"kids":[]}]}""", false)]
    public void RecursiveRef(string json, bool expected) => Is(Tree, json, expected);

    [Fact]
    public void DefinitionsRefDraft7() =>
        Is("""{"definitions":{"id":{"type":"integer"}},"properties":{"x":{"$ref":"#/definitions/id"}},"type":"object","additionalProperties":false}""", """{"x":5}""", true);

    [Theory]
    [InlineData("\"ab\"", true)]
    [InlineData("\"abcd\"", true)]
    [InlineData("\"a\"", false)]
    [InlineData("\"abcde\"", false)]
    [InlineData("\"\\n\\té\"", true)]           // escapes and é each count as one character
    public void StringLength(string json, bool expected) => Is("""{"type":"string","minLength":2,"maxLength":4}""", json, expected);

    [Theory]
    [InlineData("\"AB-12\"", true)]
    [InlineData("\"AB-1\"", false)]
    [InlineData("\"xAB-12\"", false)]
    public void AnchoredPattern(string json, bool expected) => Is("""{"type":"string","pattern":"^[A-Z]{2}-\\d{2}$"}""", json, expected);

    [Theory]
    [InlineData("\"aa\"", true)]
    [InlineData("\"aaa\"", true)]
    [InlineData("\"a\"", false)]
    [InlineData("\"aaaa\"", false)]
    [InlineData("\"ab\"", false)]
    public void PatternWithLength(string json, bool expected) => Is("""{"type":"string","pattern":"^a+$","minLength":2,"maxLength":3}""", json, expected);

    [Theory]
    [InlineData("\"\"", true)]
    [InlineData("\"x\\\"y\"", true)]      // x"y: three characters, the quote written escaped
    [InlineData("\"xyzw\"", false)]
    public void UnanchoredPatternWithMaxLength(string json, bool expected) => Is("""{"type":"string","pattern":"[^0-9]*","maxLength":3}""", json, expected);

    [Theory]
    [InlineData("\"a@b.co\"", true)]
    [InlineData("\"ab@c.com\"", false)]
    public void FormatWithLength(string json, bool expected) => Is("""{"type":"string","format":"email","maxLength":6}""", json, expected);

    [Fact]
    public void FormatWithAnImpossibleLengthIsEmpty() =>
        Assert.Contains("no string satisfies", Check.SchemaError("""{"type":"string","format":"date","maxLength":9}"""));

    [Fact]
    public void UnanchoredPatternSearches()
    {
        Is("""{"type":"string","pattern":"\\d"}""", "\"ab3cd\"", true);
        Is("""{"type":"string","pattern":"\\d"}""", "\"abcd\"", false);
        Is("""{"type":"string","pattern":"a\"b"}""", "\"xa\\\"b\"", true);   // a quote in the pattern is written escaped
    }

    [Theory]
    [InlineData("-3", true)]
    [InlineData("17", true)]
    [InlineData("-4", false)]
    [InlineData("18", false)]
    [InlineData("0", true)]
    public void IntegerBounds(string json, bool expected) => Is("""{"type":"integer","minimum":-3,"maximum":17}""", json, expected);

    // A 19-digit bound (MaskBench's Snowplow schemas write 2^63 so): its range expression is linear in the digits
    // (it was 2^19 nodes, over the automaton cap after 7 s); every digit either side of the bound's is checked.
    [Theory]
    [InlineData("9223372036854776000", true)]
    [InlineData("9223372036854776001", false)]
    [InlineData("9223372036854775999", true)]
    [InlineData("9223372036854786000", false)]
    [InlineData("9999999999999999999", false)]
    [InlineData("1000000000000000000", true)]
    [InlineData("999999999999999999", true)]
    [InlineData("10000000000000000000", false)]
    [InlineData("5", true)]
    [InlineData("0", true)]
    [InlineData("-1", false)]
    [InlineData("1234567890123456789", true)]
    public void NineteenDigitBound(string json, bool expected) =>
        Is("""{"type":"integer","minimum":0,"maximum":9223372036854776000}""", json, expected);

    [Theory]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("99", true)]
    [InlineData("100", false)]
    public void ExclusiveIntegerBoundsDraft6AndDraft4(string json, bool expected)
    {
        Is("""{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":100}""", json, expected);
        Is("""{"type":"integer","minimum":0,"exclusiveMinimum":true,"maximum":100,"exclusiveMaximum":true}""", json, expected);
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("0.5", true)]
    [InlineData("10", true)]
    [InlineData("10.0", true)]
    [InlineData("10.01", false)]
    [InlineData("-0.1", false)]
    [InlineData("1e3", false)]
    public void NumberBounds(string json, bool expected) => Is("""{"type":"number","minimum":0,"maximum":10}""", json, expected);

    [Theory]
    [InlineData("0.001", true)]
    [InlineData("0", false)]
    [InlineData("0.0", false)]
    [InlineData("-2", false)]
    public void ExclusiveNumberBound(string json, bool expected) => Is("""{"type":"number","exclusiveMinimum":0}""", json, expected);

    [Theory]
    [InlineData("date", "\"2024-02-29\"", true)]
    [InlineData("date", "\"2024-13-01\"", false)]
    [InlineData("date", "\"2022-02-31\"", false)]
    [InlineData("date", "\"2023-02-29\"", false)]
    [InlineData("date", "\"2000-02-29\"", true)]
    [InlineData("date", "\"1900-02-29\"", false)]
    [InlineData("date", "\"2023-04-31\"", false)]
    [InlineData("date", "\"2023-12-31\"", true)]
    [InlineData("date-time", "\"2024-02-29T12:30:00Z\"", true)]
    [InlineData("date-time", "\"2024-02-29T12:30:00.5+01:00\"", true)]
    [InlineData("date-time", "\"2024-02-29 noon\"", false)]
    [InlineData("time", "\"23:59:60Z\"", true)]
    [InlineData("uuid", "\"123e4567-e89b-12d3-a456-426614174000\"", true)]
    [InlineData("uuid", "\"123e4567\"", false)]
    [InlineData("email", "\"a.b@example.com\"", true)]
    [InlineData("email", "\"ab.example.com\"", false)]
    [InlineData("ipv4", "\"192.168.0.255\"", true)]
    [InlineData("ipv4", "\"192.168.0.256\"", false)]
    [InlineData("hostname", "\"api.example.com\"", true)]
    [InlineData("uri", "\"https://example.com/a?b=c#d\"", true)]
    [InlineData("uri", "\"not a uri\"", false)]
    [InlineData("uri", "\"/relative/path\"", false)]
    [InlineData("x-vendor-format", "\"anything: vendor formats are annotations\"", true)]
    public void Formats(string format, string json, bool expected) => Is($$"""{"type":"string","format":"{{format}}"}""", json, expected);

    [Theory]
    [InlineData("""{"type":"object","properties":{"x":{"type":"number","multipleOf":2}}}""", "unsupported keyword 'multipleOf' at #/properties/x")]
    [InlineData("""{"type":"object","patternProperties":{"^a":{}}}""", "unsupported keyword 'patternProperties' at #")]
    [InlineData("""{"type":"array","uniqueItems":true}""", "unsupported keyword 'uniqueItems' at #")]
    [InlineData("""{"not":{"type":"string","maxLength":3}}""", "unsupported keyword 'not' at #/not (only of a type, a boolean or another not)")]
    [InlineData("""{"properties":{"a":{"not":{"type":"integer"}}}}""", "unsupported keyword 'not' at #/properties/a/not (numbers that are not integers)")]
    [InlineData("""{"not":{"patternProperties":{"^a":{}}}}""", "unsupported keyword 'not' at #/not (only of a type, a boolean or another not)")]
    [InlineData("""{"items":{"if":{"type":"string"},"then":{"minLength":1}}}""", "unsupported keyword 'if' at #/items")]
    [InlineData("""{"type":"object","minProperties":2}""", "unsupported keyword 'minProperties' at #")]
    [InlineData("""{"type":"object","propertyNames":{"maxLength":3}}""", "unsupported keyword 'propertyNames' at #")]
    [InlineData("""{"type":"array","contains":{"type":"integer"}}""", "unsupported keyword 'contains' at #")]
    [InlineData("""{"$defs":{"a":{"dependentRequired":{"x":["y"]}}},"$ref":"#/$defs/a"}""", "unsupported keyword 'dependentRequired' at #/$defs/a")]
    [InlineData("""{"type":"number","minimum":0.5}""", "unsupported keyword 'minimum' at # (a fractional bound on a number)")]
    [InlineData("""{"allOf":[{"pattern":"a"},{"pattern":"b"}]}""", "unsupported keyword 'allOf' at # (conflicting 'pattern')")]
    [InlineData("""{"type":"object","properties":{"ip":{"type":"string","format":"ipv6"}}}""", "unsupported format 'ipv6' at #/properties/ip")]
    [InlineData("""{"definitions":{"c":{"type":"object"},"f":{"type":"object","properties":{"k":{"allOf":[{"$ref":"#/definitions/f"},{"$ref":"#/definitions/c"}]}},"required":["k"]}},"$ref":"#/definitions/f"}""", "unsupported keyword 'allOf' at #/definitions/f/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k/properties/k (recursive or too deeply nested)")]
    [InlineData("""{"type":"object","properties":{"a":{},"b":{}},"oneOf":[{"required":["a"]},{"required":["b"]}]}""", "unsupported keyword 'oneOf' at # (branches 0 and 1 may both match; only provably disjoint branches are supported)")]
    [InlineData("""{"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]}""", "unsupported keyword 'oneOf' at # (branches 0 and 1 may both match; only provably disjoint branches are supported)")]
    [InlineData("""{"$ref":"http://example.com/s.json"}""", "unsupported $ref 'http://example.com/s.json' at # (only local references)")]
    public void UnsupportedKeywordsAreRefusedWithTheirPath(string schema, string message) => Assert.Equal(message, Check.SchemaError(schema));

    [Theory]
    [InlineData("""{"not":{"type":"string"}}""", "\"x\"", false)]
    [InlineData("""{"not":{"type":"string"}}""", "1.5", true)]
    [InlineData("""{"not":{"type":"string"}}""", "null", true)]
    [InlineData("""{"type":["integer","string","null"],"not":{"type":["null","string"]}}""", "7", true)]
    [InlineData("""{"type":["integer","string","null"],"not":{"type":["null","string"]}}""", "null", false)]
    [InlineData("""{"type":"number","not":{"type":"number"}}""", null, false)]
    [InlineData("""{"not":{"type":"number"}}""", "3", false)]
    [InlineData("""{"not":{"type":"number"}}""", "true", true)]
    [InlineData("""{"enum":[1,"a",null],"not":{"type":"null"}}""", "null", false)]
    [InlineData("""{"enum":[1,"a",null],"not":{"type":"null"}}""", "\"a\"", true)]
    [InlineData("""{"type":"string","not":false}""", "\"x\"", true)]
    [InlineData("""{"type":"object","properties":{"a":{"not":true}}}""", "{\"a\":1}", false)]
    [InlineData("""{"type":"object","properties":{"a":{"not":{}}}}""", "{}", true)]
    [InlineData("""{"not":{"not":{"type":"string","maxLength":2}}}""", "\"ab\"", true)]
    [InlineData("""{"not":{"not":{"type":"string","maxLength":2}}}""", "\"abc\"", false)]
    [InlineData("""{"not":{"not":{"type":"string","maxLength":2}}}""", "1", false)]
    public void NotOfTypesBooleansAndNots(string schema, string? json, bool expected)
    {
        if (json is null)
            Assert.Contains("no string satisfies", Check.SchemaError(schema));
        else
            Is(schema, json, expected);
    }

    [Theory]
    [InlineData("""{"type":"string",""", "malformed JSON schema")]
    [InlineData("""{"type":5}""", "invalid schema at #: type must be a string or an array")]
    [InlineData("""{"type":"strang"}""", "invalid schema at #: unknown type 'strang'")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "invalid schema at #: $ref '#/$defs/missing' does not resolve")]
    [InlineData("""{"type":"string","minLength":5,"maxLength":2}""", "no string satisfies")]
    [InlineData("""{"type":"string","enum":[1,2]}""", "no string satisfies")]
    [InlineData("""{"type":"object","properties":{"a":false},"required":["a"]}""", "no string satisfies")]
    [InlineData("""{"type":"string","pattern":"(a"}""", "invalid or unsupported regex '(a'")]
    public void BadSchemasAreRefused(string schema, string fragment) => Assert.Contains(fragment, Check.SchemaError(schema));

    [Fact]
    public void AnnotationsAndUnknownKeywordsAreIgnored() =>
        Is("""{"$schema":"http://json-schema.org/draft-07/schema#","title":"t","description":"d","default":1,"examples":[1],"x-vendor":true,"type":"integer"}""", "5", true);

    [Fact]
    public void JsonObjectModeAcceptsAnyObjectOnly()
    {
        var g = ByteVocab.Compiler.CompileJsonObject();
        Assert.True(Check.Accepts(g, """{"a":[1,2,{"b":"c"}],"d":-1.5e3}"""));
        Assert.False(Check.Accepts(g, "[1]"));
        Assert.True(Check.Accepts(ByteVocab.Compiler.CompileJsonObject(anyValue: true), "[1]"));
    }

    [Fact]
    public void TheSameSchemaTextCompilesOnce() => Assert.Same(Check.Schema("""{"type":"integer","maximum":7}"""), Check.Schema("""{"type":"integer","maximum":7}"""));
}
