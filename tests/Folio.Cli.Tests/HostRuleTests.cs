using System.Text.Json;

namespace Folio.Cli.Tests;

/// <summary>The CLI's side of issue 13's host defects: one model-name rule, and a bench with nothing steady to
/// measure says so instead of printing zeros.</summary>
public sealed class HostRuleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-names-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("tiny")]
    [InlineData("builtin:tiny")]   // Python's and the C ABI's spelling; the CLI refused it
    public void Generate_takes_a_builtin_name_with_or_without_the_prefix(string model)
    {
        var run = CliRun.Folio("generate", "--model", model, "--prompt", "Hello", "--max-tokens", "2", "--seed", "1");
        Assert.Equal(0, run.ExitCode);
    }

    [Fact]
    public void A_folder_named_like_a_builtin_model_wins()
    {
        string previous = Directory.GetCurrentDirectory();
        Directory.CreateDirectory(Path.Combine(_dir, "tiny"));   // empty: no config.json
        Directory.SetCurrentDirectory(_dir);
        try
        {
            var run = CliRun.Folio("generate", "--model", "tiny", "--prompt", "Hello", "--max-tokens", "2");
            Assert.Equal(2, run.ExitCode);
            Assert.Contains(Path.Combine("tiny", "config.json"), run.Error);
            Assert.Equal(0, CliRun.Folio("generate", "--model", "builtin:tiny", "--prompt", "Hello", "--max-tokens", "2").ExitCode);
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Fact]
    public void An_unknown_model_name_lists_the_builtin_ones()
    {
        var run = CliRun.Folio("generate", "--model", "no-such-model", "--prompt", "Hello");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("the model folder 'no-such-model' does not exist, and 'no-such-model' is not a built-in model (built-in: tiny, b8, llama-1b, llama-8b, qwen3-0.6b;", run.Error);
    }

    [Fact]
    public void Bench_with_too_few_requests_says_there_was_nothing_to_measure()
    {
        var run = CliRun.Folio("bench", "--executor", "fake", "--max-num-seqs", "256", "--requests", "8");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("nothing to measure: no step was steady (8 requests never kept 256 sequences running with more waiting)", run.Out);
        Assert.DoesNotContain("us/step", run.Out);
        Assert.DoesNotContain("sequences per step", run.Out);
        Assert.DoesNotContain("KV utilization", run.Out);

        var json = CliRun.Folio("bench", "--executor", "fake", "--max-num-seqs", "256", "--requests", "8", "--json");
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Out);
        JsonElement r = doc.RootElement;
        Assert.False(r.GetProperty("steady_state_measured").GetBoolean());
        Assert.False(r.GetProperty("memory_measured").GetBoolean());
        Assert.Equal(0, r.GetProperty("steady_steps").GetInt64());
        foreach (string key in new[] { "us_per_step", "us_per_step_p50", "steps_per_s", "alloc_bytes_per_step", "running_seqs", "kv_utilization_pct" })
            Assert.Equal(JsonValueKind.Null, r.GetProperty(key).ValueKind);
        Assert.True(r.GetProperty("tokens_generated").GetInt64() > 0);   // it ran; only the steady state is missing
    }

    [Fact]
    public void Bench_with_enough_requests_reports_its_steady_state()
    {
        var json = CliRun.Folio("bench", "--executor", "fake", "--max-num-seqs", "16", "--json");
        using var doc = JsonDocument.Parse(json.Out);
        JsonElement r = doc.RootElement;
        Assert.True(r.GetProperty("steady_state_measured").GetBoolean());
        Assert.True(r.GetProperty("memory_measured").GetBoolean());
        Assert.True(r.GetProperty("us_per_step").GetDouble() > 0);
        Assert.True(r.GetProperty("running_seqs").GetDouble() > 0);
    }
}
