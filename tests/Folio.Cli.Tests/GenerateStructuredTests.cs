using System.Text.RegularExpressions;

namespace Folio.Cli.Tests;

/// <summary>folio generate's structured-output options on the tiny model (random weights: only the constraint
/// makes the output match).</summary>
public class GenerateStructuredTests
{
    [Fact]
    public void RegexOutputMatchesAndBadSchemaIsAUsageError()
    {
        var (code, output, error) = CliRun.Folio(["generate", "--model", "tiny", "--prompt", "Answer:", "--regex", "(yes|no), [a-z]{3,8}",
            "--max-tokens", "32", "--seed", "4", "--threads", "2"]);
        Assert.True(code == 0, error);
        Assert.Matches(new Regex("^(yes|no), [a-z]{3,8}$"), output.TrimEnd('\n', '\r'));

        string schema = Path.Combine(Path.GetTempPath(), $"folio-schema-{Guid.NewGuid():N}.json");
        File.WriteAllText(schema, """{"type": "object", "properties": {"a": {"type": "integer", "multipleOf": 2}}}""");
        try
        {
            (code, _, error) = CliRun.Folio(["generate", "--model", "tiny", "--prompt", "x", "--json-schema", schema, "--threads", "2"]);
            Assert.Equal(2, code);
            Assert.Contains("structured_outputs.json: unsupported keyword 'multipleOf' at #/properties/a", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(schema);
        }
    }
}
