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
    /// <remarks>The folders are deleted when the test process exits (each run used to leave ~1.6 MB per call in /tmp:
    /// 770 folders, 1.2 GB, on one development machine).</remarks>
    public static string WriteTokenizerJson(string prefix, JsonNode json)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"folio-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        TemporaryFolders.Add(dir);
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static readonly System.Collections.Concurrent.ConcurrentBag<string> TemporaryFolders = NewFolderList();

    private static System.Collections.Concurrent.ConcurrentBag<string> NewFolderList()
    {
        var folders = new System.Collections.Concurrent.ConcurrentBag<string>();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (string dir in folders)
            {
                try
                {
                    Directory.Delete(dir, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort at exit: a folder another process still holds stays behind.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        };
        return folders;
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
