namespace Folio.Structured.Tests;

/// <summary>
/// Schemas whose valid MaskBench instances the grammar once refused (validation errors), one test per cause:
/// properties out of schema order in objects of 7 to 10 properties, keywords beside <c>$ref</c> in drafts 4 to 7,
/// and numbers in <c>enum</c>/<c>const</c> written in another form of the same value.
/// </summary>
public class MaskBenchFixesTests
{
    private static void Is(string schema, string json, bool expected) => Assert.Equal(expected, Check.Accepts(Check.Schema(schema), json));

    private const string TenProperties = """
        {"type":"object","properties":{"a":{},"b":{},"c":{},"d":{},"e":{},"f":{},"g":{},"h":{},"i":{"type":"integer"},"j":{}},
         "required":["a","j"],"additionalProperties":false}
        """;

    [Theory]
    [InlineData("""{"j":1,"c":2,"a":3}""", true)]           // any order (Github_easy---o54575 had 7 properties)
    [InlineData("""{"i":1,"h":2,"g":3,"f":4,"e":5,"d":6,"c":7,"b":8,"a":9,"j":10}""", true)]
    [InlineData("""{"j":1,"a":2,"j":3}""", false)]          // each at most once
    [InlineData("""{"c":1,"a":2}""", false)]                // required j missing
    [InlineData("""{"a":1,"j":2,"i":"x"}""", false)]        // member schemas still apply
    [InlineData("""{"a":1,"j":2,"z":3}""", false)]          // additionalProperties false
    public void TenPropertiesInAnyOrder(string json, bool expected) => Is(TenProperties, json, expected);

    [Fact]
    public void AdditionalPropertiesAnywhereAmongTenProperties()
    {
        const string schema = """{"type":"object","properties":{"a":{},"b":{},"c":{},"d":{},"e":{},"f":{},"g":{},"h":{},"i":{},"j":{}},"additionalProperties":{"type":"string"}}""";
        Is(schema, """{"b":1,"x":"y","a":2}""", true);
        Is(schema, """{"b":1,"x":2}""", false);
        Is(schema, """{"b":1,"b":2}""", false);
    }

    private const string RefWithSiblings = """
        "definitions":{"w":{"type":"object","properties":{"id":{"type":"string"}}}},
        "type":"object","properties":{"w":{"$ref":"#/definitions/w","required":["config"],"multipleOf":2}},"required":["w"]
        """;

    [Fact]
    public void Draft7RefIgnoresItsSiblings()
    {
        // Github_hard---o13693: drafts 4 to 7 ignore every keyword beside $ref, even one this engine refuses.
        Is("{\"$schema\":\"http://json-schema.org/draft-07/schema#\"," + RefWithSiblings + "}", """{"w":{"id":"x"}}""", true);
        Is("{\"$schema\":\"http://json-schema.org/draft-04/schema#\"," + RefWithSiblings + "}", """{"w":{"id":1}}""", false);
    }

    [Fact]
    public void RefSiblingsApplyFrom2019On()
    {
        const string schema = """
            {"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{"w":{"type":"object","properties":{"id":{"type":"string"}}}},
             "type":"object","properties":{"w":{"$ref":"#/$defs/w","required":["config"]}},"required":["w"]}
            """;
        Is(schema, """{"w":{"id":"x"}}""", false);
        Is(schema, """{"w":{"id":"x","config":1}}""", true);
        Assert.Contains("unsupported keyword 'multipleOf'", Check.SchemaError("{" + RefWithSiblings + "}"));
    }

    [Theory]
    [InlineData("""{"enum":[2.0]}""", "2", true)]           // Github_medium---o61348: 2 equals 2.0
    [InlineData("""{"enum":[2.0]}""", "2.0", true)]
    [InlineData("""{"enum":[2.0]}""", "20", false)]
    [InlineData("""{"enum":[2.0]}""", "2.5", false)]
    [InlineData("""{"const":3}""", "3.0", true)]
    [InlineData("""{"enum":[1.50,"x"]}""", "1.5", true)]
    [InlineData("""{"enum":[1.50,"x"]}""", "1.50", true)]
    [InlineData("""{"enum":[1.50,"x"]}""", "1.05", false)]
    [InlineData("""{"type":"integer","enum":[-4.0]}""", "-4", true)]
    public void EnumNumbersInAnyFormOfTheirValue(string schema, string json, bool expected) => Is(schema, json, expected);
}
