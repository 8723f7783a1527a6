namespace Folio.Cli.Tests;

/// <summary><c>folio bench --server</c> (B10) end to end on a small load, and <c>folio serve</c>'s fake-model and KV cache options.</summary>
public sealed class ServerBenchTests
{
    [Fact]
    public void A_small_server_bench_streams_every_token_and_frees_every_block()
    {
        var run = CliRun.Folio("bench", "--server", "--clients", "4", "--requests", "12", "--output-len", "5", "--rounds", "1", "--rate", "100");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Contains("4 concurrent streams × 12 requests of 5 tokens", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"  engine +\d+ tok/s  60 tokens in ", run.Out);   // 12 × 5, every one counted
        Assert.Matches(@"  http +\d+ tok/s  60 tokens in ", run.Out);
        Assert.Matches(@"idle TTFT p50 \(p99\): engine [\d.]+ \([\d.]+\) ms, http [\d.]+ \([\d.]+\) ms, added -?[\d.]+ ms", run.Out);
        // The open loop: the same 12 arrivals (the cap is --requests) on the engine and over HTTP, both p50s, the
        // difference, the driver's lateness, and the TTFT from the actual send.
        Assert.Matches(@"  paced engine +\d+ tok/s  60 tokens in ", run.Out);
        Assert.Matches(@"  paced http +\d+ tok/s  60 tokens in ", run.Out);
        Assert.Matches(@"paced TTFT p50 \(100\.0 requests/s = 500 tok/s offered, engine first\): engine [\d.]+ ms, http [\d.]+ ms, added -?[\d.]+ ms; " +
            @"arrivals late p50/max: engine [\d.]+/[\d.]+ ms, http [\d.]+/[\d.]+ ms", run.Out);
        Assert.Matches(@"paced TTFT p50 from the send: engine -?[\d.]+ ms, http -?[\d.]+ ms, added -?[\d.]+ ms", run.Out);
        Assert.Contains("after: 0 KV blocks used, 0 failed requests", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Fewer_requests_than_clients_is_a_usage_error()
    {
        var run = CliRun.Folio("bench", "--server", "--clients", "8", "--requests", "4");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"error: --server: needs --clients ≥ 1 (got 8), --requests ≥ --clients (got 4), --output-len ≥ 1 (got 64), --rounds ≥ 1 (got 3) and --rate ≥ 0 (got 400){Environment.NewLine}", run.Error);
    }

    [Fact]
    public void A_bad_kv_cache_dtype_is_a_usage_error()
    {
        // Refused before a model loads or a port opens (a working bf16 server: scripts/test-suites/server.sh).
        var run = CliRun.Folio("serve", "--model", "tiny", "--kv-cache-dtype", "fp16");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"error: --kv-cache-dtype 'fp16' must be fp32 or bf16{Environment.NewLine}", run.Error);
    }

    [Fact]
    public void Fake_model_options_on_a_real_model_are_a_usage_error()
    {
        var run = CliRun.Folio("serve", "--model", "tiny", "--fake-step-ms", "5");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"error: --fake-step-ms and --fake-cpu-blocks apply to --model fake only{Environment.NewLine}", run.Error);
    }
}
