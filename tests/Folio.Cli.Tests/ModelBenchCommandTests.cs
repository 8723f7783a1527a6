using System.Text.Json;

namespace Folio.Cli.Tests;

/// <summary><c>folio bench --model</c>: its JSON report, and each input it refuses (exit code 2, one message).</summary>
public class ModelBenchCommandTests
{
    private static readonly string[] Small = ["bench", "--model", "tiny", "--requests", "3", "--input-len", "5", "--output-len", "4",
        "--kv-mib", "8", "--threads", "2"];

    [Fact]
    public void Json_HasExactlyItsKeys_WithConsistentValues()
    {
        var (code, output, error) = CliRun.Folio([.. Small, "--json"]);
        Assert.Equal(0, code);
        Assert.Equal("", error);   // no progress bar in JSON mode
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(
            ["bandwidth_gb_s", "bound_tokens_per_s", "decode_tokens_per_s", "kv_utilization_pct", "mean_batch", "output_tokens_per_s",
             "preemptions", "prefix_hit_rate", "requests_per_s", "total_tokens_per_s"],
            root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        double rps = root.GetProperty("requests_per_s").GetDouble();
        Assert.True(rps > 0);
        // 3 requests of 5 + 4 tokens: 12 output and 27 total tokens per 3 requests (rounded as printed).
        Assert.Equal(rps * 4, root.GetProperty("output_tokens_per_s").GetDouble(), 0.05 * rps);
        Assert.Equal(rps * 9, root.GetProperty("total_tokens_per_s").GetDouble(), 0.05 * rps);
        Assert.InRange(root.GetProperty("mean_batch").GetDouble(), 1.0, 3.0);
        Assert.Equal(0, root.GetProperty("preemptions").GetInt64());
        Assert.Equal(0.0, root.GetProperty("bandwidth_gb_s").GetDouble());   // measured only with --bandwidth
        Assert.Equal(0.0, root.GetProperty("bound_tokens_per_s").GetDouble());
        Assert.InRange(root.GetProperty("prefix_hit_rate").GetDouble(), 0.0, 1.0);
    }

    [Theory]
    [InlineData("--device", "gpu", "error: --device 'gpu': only cpu is available in this build")]
    [InlineData("--dataset", "alpaca", "error: --dataset 'alpaca': only sharegpt-like is known")]
    [InlineData("--input-len", "0", "error: --input-len and --output-len must be at least 1")]
    [InlineData("--output-len", "0", "error: --input-len and --output-len must be at least 1")]
    [InlineData("--input-len", "3000", "error: request 0: ")]
    [InlineData("--model", "/nonexistent/folio-model", "error: the model folder '/nonexistent/folio-model' does not exist, and '/nonexistent/folio-model' is not a built-in model (built-in: tiny, b8, llama-1b, llama-8b; each also as builtin:NAME)")]
    [InlineData("--requests", "x", "error: ")]
    public void BadInput_IsRefused(string option, string value, string message)
    {
        var args = Small.ToList();
        int at = args.IndexOf(option);
        if (at >= 0)
            args[at + 1] = value;
        else
            args.AddRange([option, value]);
        var (code, output, error) = CliRun.Folio([.. args]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.StartsWith(message, error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
