using System.Text.Json;

namespace Folio.Cli.Tests;

/// <summary><c>folio bench --model</c>: its JSON report, and each input it refuses (exit code 2, one message).</summary>
public class ModelBenchCommandTests
{
    private static readonly string[] Small = ["bench", "--model", "tiny", "--requests", "3", "--input-len", "5", "--output-len", "4",
        "--kv-mib", "8", "--threads", "2"];

    private const long Norms = (2 * 4 + 1) * 256 * 4;

    [Fact]
    public void Json_HasExactlyItsKeys_WithConsistentValues()
    {
        var (code, output, error) = CliRun.Folio([.. Small, "--json"]);
        Assert.Equal(0, code);
        Assert.Equal("", error);   // no progress bar in JSON mode
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(
            ["activation_held_mib", "activation_peak_mib", "bandwidth_after_gb_s", "bandwidth_before_gb_s", "bandwidth_gb_s", "bound_tokens_per_s", "cuda_graphs", "decode_gpu_busy_pct",
             "decode_tokens_per_s", "decode_workspace_mib", "device_total_mib", "device_used_mib_after", "graphed_steps", "kernels",
             "kv_blocks", "kv_cache_dtype", "kv_read_bytes_per_step", "kv_utilization_pct", "load_seconds", "mean_batch", "output_tokens_per_s", "precision", "preemptions",
             "prefill_tokens_per_s", "prefix_hit_rate", "requests_per_s", "total_tokens_per_s", "weight_bytes"],
            root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        double rps = root.GetProperty("requests_per_s").GetDouble();
        Assert.True(rps > 0);
        // 3 requests of 5 + 4 tokens: 12 output and 27 total tokens per 3 requests (rounded as printed).
        Assert.Equal(rps * 4, root.GetProperty("output_tokens_per_s").GetDouble(), 0.05 * rps);
        Assert.Equal(rps * 9, root.GetProperty("total_tokens_per_s").GetDouble(), 0.05 * rps);
        Assert.InRange(root.GetProperty("mean_batch").GetDouble(), 1.0, 3.0);
        Assert.Equal(0, root.GetProperty("preemptions").GetInt64());
        foreach (string key in (string[])["bandwidth_gb_s", "bandwidth_before_gb_s", "bandwidth_after_gb_s"])
            Assert.Equal(0.0, root.GetProperty(key).GetDouble());   // measured only with --bandwidth
        Assert.Equal(0.0, root.GetProperty("bound_tokens_per_s").GetDouble());
        Assert.InRange(root.GetProperty("prefix_hit_rate").GetDouble(), 0.0, 1.0);
        Assert.True(root.GetProperty("prefill_tokens_per_s").GetDouble() > 0);   // the prompts' steps, timed
        Assert.Equal("fp32", root.GetProperty("precision").GetString());
        Assert.False(root.GetProperty("cuda_graphs").GetBoolean());   // CPU: no graphs, no device time
        Assert.Equal(0L, root.GetProperty("graphed_steps").GetInt64());
        Assert.Equal(0.0, root.GetProperty("decode_gpu_busy_pct").GetDouble());
        Assert.InRange(root.GetProperty("load_seconds").GetDouble(), 0.0, 120.0);
        // The CPU sizes no cache from a profile run and has no device memory to report.
        foreach (string key in (string[])["activation_peak_mib", "activation_held_mib", "decode_workspace_mib", "device_used_mib_after", "device_total_mib"])
            Assert.Equal(JsonValueKind.Null, root.GetProperty(key).ValueKind);
        Assert.True(root.GetProperty("kv_blocks").GetInt32() > 0);
        // tiny's MatMul weights (q/k/v, o, gate/up, down per layer and lm_head) in 16-column fp32 panels, and its
        // 9 fp32 norm weights.
        Assert.Equal(4L * (4 * (512 * 256 + 256 * 256 + 1408 * 256 + 256 * 704) + 50272 * 256) + Norms, root.GetProperty("weight_bytes").GetInt64());
        // The decode bound's other bytes: the mean batch-1 context (5 prompt + 4 / 2 tokens) × K and V × 4 layers ×
        // 4 KV heads × head size 32 × 4 bytes (fp32 cache).
        Assert.Equal("fp32", root.GetProperty("kv_cache_dtype").GetString());
        Assert.Equal(7L * 2 * 4 * 4 * 32 * 4, root.GetProperty("kv_read_bytes_per_step").GetInt64());
    }

    /// <summary>With --bandwidth the read bandwidth is probed before and after the timed run; the bound is their mean
    /// over the bytes a batch-1 step reads.</summary>
    [Fact]
    public void Bandwidth_IsTheMeanOfProbesAroundTheRun()
    {
        var (code, output, _) = CliRun.Folio([.. Small, "--json", "--bandwidth"]);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        double before = root.GetProperty("bandwidth_before_gb_s").GetDouble(), after = root.GetProperty("bandwidth_after_gb_s").GetDouble();
        double mean = root.GetProperty("bandwidth_gb_s").GetDouble();
        Assert.True(before > 0 && after > 0, $"probes {before} and {after} GB/s");
        Assert.Equal((before + after) / 2, mean, 0.011);   // each printed to 0.01
        long bytes = root.GetProperty("weight_bytes").GetInt64() + root.GetProperty("kv_read_bytes_per_step").GetInt64();
        Assert.Equal(mean * 1e9 / bytes, root.GetProperty("bound_tokens_per_s").GetDouble(), 0.01 * mean * 1e9 / bytes);
    }

    [Fact]
    public void ADatasetFile_GivesTheRequestsTheirLengths()
    {
        // bench/e2e.py draws ShareGPT-like lengths once and gives the same to HF and to Folio (--dataset FILE).
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "5 3\n12 7\n\n9 2\n");
            var (code, output, error) = CliRun.Folio(["bench", "--model", "tiny", "--dataset", file, "--kv-mib", "8", "--threads", "2", "--json"]);
            Assert.True(code == 0, error);
            var root = JsonDocument.Parse(output).RootElement;
            double rps = root.GetProperty("requests_per_s").GetDouble();
            // 3 requests: 12 output and 38 total tokens.
            Assert.Equal(rps * 12 / 3, root.GetProperty("output_tokens_per_s").GetDouble(), 0.05 * rps);
            Assert.Equal(rps * 38 / 3, root.GetProperty("total_tokens_per_s").GetDouble(), 0.05 * rps);
            File.WriteAllText(file, "5 3\n7 x\n");
            (code, output, error) = CliRun.Folio(["bench", "--model", "tiny", "--dataset", file, "--kv-mib", "8"]);
            Assert.Equal(2, code);
            Assert.Equal($"error: --dataset {file}: line 2 must be two positive token counts, 'input output'{Environment.NewLine}", error);
            (code, _, error) = CliRun.Folio(["bench", "--model", "tiny", "--dataset", file + ".missing"]);
            Assert.Equal(2, code);
            Assert.Contains("only sharegpt-like is known, or an existing file of 'input output' lengths", error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Int8_IsReportedWithItsKernelAndAQuarterOfTheBytes()
    {
        var (code, output, _) = CliRun.Folio([.. Small, "--json", "--quantization", "int8"]);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("int8", doc.RootElement.GetProperty("precision").GetString());
        Assert.Contains("int8 weights (group 32, fp16 scales)", doc.RootElement.GetProperty("kernels").GetString());
        // Per [out, in] weight: 8-column panels × 32-input groups × (32 quants + a 2-byte scale).
        static long Int8(long outCols, long inCols) => (outCols + 7) / 8 * 8 * ((inCols + 31) / 32 * 34);
        Assert.Equal(4 * (Int8(512, 256) + Int8(256, 256) + Int8(1408, 256) + Int8(256, 704)) + Int8(50257, 256) + Norms,
            doc.RootElement.GetProperty("weight_bytes").GetInt64());
    }

    [Fact]
    public void ABf16KvCacheIsReportedAndHoldsTwiceTheBlocks()
    {
        var (code32, output32, _) = CliRun.Folio([.. Small, "--json"]);
        var (code16, output16, _) = CliRun.Folio([.. Small, "--json", "--kv-cache-dtype", "bf16"]);
        Assert.Equal((0, 0), (code32, code16));
        using var fp32 = JsonDocument.Parse(output32);
        using var bf16 = JsonDocument.Parse(output16);
        Assert.Equal("fp32", fp32.RootElement.GetProperty("kv_cache_dtype").GetString());
        Assert.Equal("bf16", bf16.RootElement.GetProperty("kv_cache_dtype").GetString());
        Assert.Equal(2 * fp32.RootElement.GetProperty("kv_blocks").GetInt32(), bf16.RootElement.GetProperty("kv_blocks").GetInt32());
        Assert.True(bf16.RootElement.GetProperty("decode_tokens_per_s").GetDouble() > 0);
    }

    [Fact]
    public void SharedPrefixIsServedFromThePrefixCacheOnlyWhenCachingIsOn()
    {
        // 40 shared tokens (2.5 blocks of 16) before each prompt's own 5, 48 tokens a step: the first prompt is
        // computed alone, the later ones hit its first two blocks (blocks computed in the same step are not hits).
        double HitRate(params string[] extra)
        {
            var (code, output, error) = CliRun.Folio(["bench", "--model", "tiny", "--requests", "6", "--input-len", "5", "--output-len", "4",
                "--kv-mib", "8", "--threads", "2", "--shared-prefix", "40", "--max-num-batched-tokens", "48", "--json", .. extra]);
            Assert.True(code == 0, error);
            using var doc = JsonDocument.Parse(output);
            return doc.RootElement.GetProperty("prefix_hit_rate").GetDouble();
        }
        Assert.True(HitRate() > 0.3, "the shared blocks should be hits");
        Assert.Equal(0.0, HitRate("--no-prefix-caching"));
    }

    [Fact]
    public void CudaWithoutAUsableGpuIsAClearUsageError()
    {
        // This machine (and CI) has no GPU, and no libfolio_cuda.so beside the CLI: the model cannot open on CUDA.
        var (code, output, error) = CliRun.Folio([.. Small, "--device", "cuda"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: --device cuda: ", error);
    }

    [Fact]
    public void Int4_IsReportedWithItsKernelAndAnEighthOfTheBytes()
    {
        var (code, output, _) = CliRun.Folio([.. Small, "--json", "--quantization", "int4"]);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("int4", doc.RootElement.GetProperty("precision").GetString());
        Assert.Contains("int4 weights (group 32, fp16 scales)", doc.RootElement.GetProperty("kernels").GetString());
        Assert.True(doc.RootElement.GetProperty("prefill_tokens_per_s").GetDouble() > 0);
        // Per [out, in] weight: 8-column panels × 32-input groups × (16 bytes of nibbles + a 2-byte scale).
        static long Int4(long outCols, long inCols) => (outCols + 7) / 8 * 8 * ((inCols + 31) / 32 * 18);
        Assert.Equal(4 * (Int4(512, 256) + Int4(256, 256) + Int4(1408, 256) + Int4(256, 704)) + Int4(50257, 256) + Norms,
            doc.RootElement.GetProperty("weight_bytes").GetInt64());
    }

    [Theory]
    [InlineData("--device", "gpu", "error: --device 'gpu' must be cpu or cuda")]
    [InlineData("--dtype", "float32", "error: --dtype float32: the CPU backend computes in fp32")]
    [InlineData("--dtype", "fp64", "error: --dtype 'fp64' must be auto, float32, bfloat16 or float16")]
    [InlineData("--dataset", "alpaca", "error: --dataset 'alpaca': only sharegpt-like is known")]
    [InlineData("--input-len", "0", "error: --input-len and --output-len must be at least 1")]
    [InlineData("--output-len", "0", "error: --input-len and --output-len must be at least 1")]
    [InlineData("--input-len", "3000", "error: request 0: ")]
    [InlineData("--model", "/nonexistent/folio-model", "error: the model folder '/nonexistent/folio-model' does not exist, and '/nonexistent/folio-model' is not a built-in model (built-in: tiny, b8, llama-1b, llama-8b, qwen3-0.6b; each also as builtin:NAME)")]
    [InlineData("--requests", "x", "error: ")]
    [InlineData("--quantization", "int2", "error: --quantization 'int2' must be none, int8 or int4")]
    [InlineData("--kv-cache-dtype", "f16", "error: --kv-cache-dtype 'f16' must be fp32 or bf16")]
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
