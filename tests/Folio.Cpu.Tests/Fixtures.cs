using System.Text.Json.Nodes;

namespace Folio.Cpu.Tests;

/// <summary>Finds tests/fixtures from the test binary's folder.</summary>
internal static class Fixtures
{
    public static string Root { get; } = Find();

    public static string Hf(string name) => Path.Combine(Root, "hf", name);

    /// <summary>
    /// Writes <paramref name="json"/> as tokenizer.json in a new temporary folder of its own and returns the path.
    /// One folder per call: test classes run in parallel, and two tests writing one shared file let a reader see it
    /// half written (a CI run failed on that).
    /// </summary>
    public static string WriteTokenizerJson(string prefix, JsonNode json)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"folio-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(Path.Combine(candidate, "hf")))
                return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures/hf not found above " + AppContext.BaseDirectory);
    }
}
