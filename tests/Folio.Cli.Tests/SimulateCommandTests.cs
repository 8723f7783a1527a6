using System.Text.Json;

namespace Folio.Cli.Tests;

public sealed class SimulateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-sim-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Trace(string text)
    {
        string path = Path.Combine(_dir, "trace.jsonl");
        File.WriteAllText(path, text);
        return path;
    }

    private static void AssertUsageError((int ExitCode, string Out, string Error) run, string expected)
    {
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Equal($"error: {expected}{Environment.NewLine}", run.Error);   // one line, no stack trace
    }

    [Fact]
    public void A_malformed_trace_line_names_the_file_and_line()
    {
        string path = Trace("{\"input_len\": 10, \"output_len\": 20}\n{\"input_len\": 10, \"output_len\": }\n");
        var run = CliRun.Folio("simulate", "--trace", path, "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"error: {path} line 2: malformed JSON at column 33 (", run.Error);
        Assert.Single(run.Error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("Exception", run.Error, StringComparison.Ordinal);   // no stack trace
    }

    [Fact]
    public void A_negative_length_is_rejected_with_its_line()
    {
        string path = Trace("{\"input_len\": 10, \"output_len\": 20}\n\n{\"input_len\": -3, \"output_len\": 20}\n");
        AssertUsageError(CliRun.Folio("simulate", "--trace", path), $"{path} line 3: \"input_len\" is negative (-3)");
    }

    [Fact]
    public void A_block_size_of_zero_is_rejected()
    {
        AssertUsageError(CliRun.Folio("simulate", "--block-size", "16,0", "--json"),
            "--block-size must be a positive number of tokens, got 0");
    }

    [Theory]
    [InlineData(new[] { "simulate", "--block-size", "x" }, "--block-size expects comma-separated integers, got 'x' in 'x'")]
    [InlineData(new[] { "simulate", "--workload", "foo" }, "--workload must be sharegpt-like or alpaca-like, got 'foo'")]
    [InlineData(new[] { "simulate", "--policies", "orca-max,magic" }, "--policies: unknown policy 'magic' (known: orca-max,orca-pow2,orca-oracle,paged)")]
    [InlineData(new[] { "simulate", "--kv-tokens", "1000" }, "--kv-tokens must be at least the maximum sequence length (2048) so every request fits, got 1000")]
    [InlineData(new[] { "simulate", "--kv-tokens", "99999999" }, "--kv-tokens must be at most 4194304, got 99999999")]
    [InlineData(new[] { "simulate", "--kv-tokens", "2100", "--block-size", "1000" }, "--block-size 1000: 2100 KV slots make 2 blocks, fewer than the 3 one longest request needs")]
    [InlineData(new[] { "simulate", "--requests", "0" }, "--requests must be at least 1, got 0")]
    [InlineData(new[] { "simulate", "--n", "2,-4" }, "--n widths must be at least 1, got -4")]
    public void Bad_options_give_one_clear_line_and_exit_code_2(string[] args, string expected)
    {
        AssertUsageError(CliRun.Folio(args), expected);
    }

    [Fact]
    public void A_missing_trace_file_is_a_usage_error()
    {
        string path = Path.Combine(_dir, "absent.jsonl");
        var run = CliRun.Folio("simulate", "--trace", path);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"error: --trace: cannot read '{path}': ", run.Error);
    }

    [Fact]
    public void Json_output_is_one_object_of_the_issue_shape()
    {
        string path = Trace(string.Join('\n', Enumerable.Range(1, 60).Select(i => $"{{\"input_len\": {i * 37 % 900 + 100}, \"output_len\": {i * 13 % 500 + 1}}}")));
        string svg = Path.Combine(_dir, "fig.svg");
        var run = CliRun.Folio("simulate", "--trace", path, "--kv-tokens", "4096", "--block-size", "8,16", "--n", "2", "--beam", "2", "--json", "--plot", svg);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);

        using JsonDocument doc = JsonDocument.Parse(run.Out);
        JsonElement root = doc.RootElement;
        Assert.Equal("trace", root.GetProperty("workload").GetString());
        Assert.Equal(60, root.GetProperty("requests").GetInt32());
        string[] names = [.. root.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("name").GetString()!)];
        Assert.Equal(["orca-max", "orca-pow2", "orca-oracle", "paged", "paged"], names);
        JsonElement paged = root.GetProperty("policies")[4];
        Assert.Equal(16, paged.GetProperty("block_size").GetInt32());
        double sum = 0;
        foreach (string key in new[] { "token_state_pct", "reserved_pct", "internal_frag_pct", "external_frag_pct" })
            sum += paged.GetProperty(key).GetDouble();
        Assert.InRange(sum, 99.97, 100.03);   // each rounded to 2 decimals
        Assert.True(paged.GetProperty("mean_batch").GetDouble() > 1);
        Assert.False(root.GetProperty("policies")[0].TryGetProperty("block_size", out _));
        string[] modes = [.. root.GetProperty("sharing").EnumerateArray().Select(s => s.GetProperty("mode").GetString()!)];
        Assert.Equal(["parallel-sampling", "beam-search"], modes);

        string picture = File.ReadAllText(svg);
        Assert.StartsWith("<svg ", picture);
        Assert.Contains("paged (16)", picture, StringComparison.Ordinal);
        Assert.Contains("External fragmentation &amp; others", picture, StringComparison.Ordinal);
    }

    [Fact]
    public void Kv_map_draws_the_busiest_step_with_every_kind_of_block()
    {
        string path = Trace(string.Join('\n', Enumerable.Range(1, 80).Select(i => $"{{\"input_len\": {i * 37 % 300 + 20}, \"output_len\": {i * 13 % 400 + 50}}}")));
        string svg = Path.Combine(_dir, "map.svg");
        var run = CliRun.Folio("simulate", "--trace", path, "--kv-tokens", "4096", "--policies", "paged", "--n", "none", "--beam", "none", "--kv-map", svg);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);
        Assert.Matches(@"KV map: step \d+ of \d+ \(\d+ running, [1-9]\d* swapped\) written to ", run.Out);
        string picture = File.ReadAllText(svg);
        Assert.StartsWith("<svg ", picture);
        Assert.Contains("Paged KV cache at step ", picture, StringComparison.Ordinal);
        Assert.Contains("GPU blocks: 256, ", picture, StringComparison.Ordinal);    // 4,096 slots / 16
        Assert.Contains("CPU swap blocks: 64, ", picture, StringComparison.Ordinal);
        Assert.Contains("fill=\"#333\"", picture, StringComparison.Ordinal);         // the system prompt, shared by several requests
        Assert.Contains("stroke=\"#111\"", picture, StringComparison.Ordinal);       // a shared block's outline
        Assert.Matches(@"GPU blocks: 256, \d+ used \([1-9]\d* shared\), [1-9]\d* free", picture);
    }

    [Fact]
    public void Kv_map_to_an_unwritable_path_is_a_usage_error()
    {
        string path = Trace("{\"input_len\": 10, \"output_len\": 20}\n");
        string svg = Path.Combine(_dir, "missing", "map.svg");
        var run = CliRun.Folio("simulate", "--trace", path, "--policies", "paged", "--n", "none", "--beam", "none", "--kv-map", svg);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"error: --kv-map: cannot write '{svg}': ", run.Error);
    }
}
