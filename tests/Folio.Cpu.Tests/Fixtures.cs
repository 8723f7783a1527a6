namespace Folio.Cpu.Tests;

/// <summary>Finds tests/fixtures from the test binary's folder.</summary>
internal static class Fixtures
{
    public static string Root { get; } = Find();

    public static string Hf(string name) => Path.Combine(Root, "hf", name);

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
