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
    /// <remarks>The folders live under one folder per test process, <c>folio-cpu-tests/PID</c> in the temporary
    /// directory; the first call of a process deletes those of processes that are gone (each run used to leave
    /// ~1.6 MB per call in /tmp: 770 folders, 1.2 GB, on one development machine; the test host does not always run
    /// exit handlers).</remarks>
    public static string WriteTokenizerJson(string prefix, JsonNode json)
    {
        string dir = Path.Combine(TempRoot.Value, $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static readonly Lazy<string> TempRoot = new(CreateTempRoot);

    private static string CreateTempRoot()
    {
        string parent = Path.Combine(Path.GetTempPath(), "folio-cpu-tests");
        Directory.CreateDirectory(parent);
        foreach (string stale in Directory.GetDirectories(parent))
        {
            if (!int.TryParse(Path.GetFileName(stale), out int pid) || IsRunning(pid))
                continue;
            try
            {
                Directory.Delete(stale, recursive: true);
            }
            catch (IOException)
            {
                // Another test process may be deleting it at the same moment.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        string root = Path.Combine(parent, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        return root;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;   // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
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
