using System.Globalization;
using System.Text.RegularExpressions;

namespace Folio.Server.Tests;

/// <summary>/metrics: vLLM's names under folio:, values that match what the requests did.</summary>
public sealed class MetricsTests
{
    /// <summary>"name{labels} value" lines of a Prometheus text body, keyed by name and labels.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(TestServer s)
    {
        using var response = await s.Client.GetAsync("/metrics");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        var values = new Dictionary<string, double>();
        foreach (var line in body.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var m = Regex.Match(line, @"^(\S+) (\S+)$");
            Assert.True(m.Success, $"not a sample line: {line}");
            values[m.Groups[1].Value] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return values;
    }

    private const string Model = "model_name=\"fake\"";

    [Fact]
    public async Task Counters_gauges_and_histograms_follow_the_requests()
    {
        await using var s = await TestServer.StartAsync(stepDelay: TimeSpan.FromMilliseconds(1));
        // 1) n=2, 5 tokens each, prompt 2 tokens; 2) a stop string that ends it; 3) a chat stream of 4 tokens.
        await s.PostJsonAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 5, "n": 2, "seed": 1}""");
        string full = (await s.PostJsonAsync("/v1/completions", """{"prompt": "ccdd", "max_tokens": 20, "seed": 2}"""))["choices"]![0]!["text"]!.GetValue<string>();
        await s.PostJsonAsync("/v1/completions", $$"""{"prompt": "ccdd", "max_tokens": 20, "seed": 2, "stop": ["{{full.Substring(11, 3)}}"]}""");
        using (var r = await s.PostAsync("/v1/chat/completions", """{"messages": [{"role": "user", "content": "eeff"}], "max_tokens": 4, "stream": true}"""))
            Assert.Equal(200, (int)r.StatusCode);
        // 4) a client that leaves mid-stream: aborted.
        using (var cts = new CancellationTokenSource())
        {
            var r = await s.PostAsync("/v1/completions", """{"prompt": "aa", "max_tokens": 3000, "stream": true}""", HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.True(await (await r.Content.ReadAsStreamAsync(cts.Token)).ReadAsync(new byte[64], cts.Token) > 0);
            var during = await ScrapeAsync(s);
            Assert.Equal(1, during[$"folio:num_requests_running{{{Model}}}"]);
            Assert.True(during[$"folio:kv_cache_usage_perc{{{Model}}}"] > 0);
            await cts.CancelAsync();
            r.Dispose();
        }
        await s.WaitIdleAsync();
        // The aborted request's end goes out with the step after the abort: wait for the metrics to see it.
        for (int i = 0; i < 500 && s.Server.LiveRequestTimings > 0; i++) await Task.Delay(10);
        var m = await ScrapeAsync(s);
        Assert.Equal(0, m[$"folio:num_requests_running{{{Model}}}"]);
        Assert.Equal(0, m[$"folio:num_requests_waiting{{{Model}}}"]);
        Assert.Equal(0, m[$"folio:kv_cache_usage_perc{{{Model}}}"]);
        var tokens = s.Engine.GetTokenCounts();
        Assert.Equal(2 + 2 + 2 + 3 + 1, m[$"folio:prompt_tokens_total{{{Model}}}"]);   // chat: "eeff" + "hh"
        Assert.Equal(tokens.PromptTokens, m[$"folio:prompt_tokens_total{{{Model}}}"]);
        Assert.Equal(tokens.GeneratedTokens, m[$"folio:generation_tokens_total{{{Model}}}"]);
        string ends = string.Join(", ", m.Where(kv => kv.Key.StartsWith("folio:request_success_total", StringComparison.Ordinal)).Select(kv => $"{kv.Key} {kv.Value}"));
        Assert.True(m[$"folio:request_success_total{{finished_reason=\"length\",{Model}}}"] == 3, $"3 ended by length expected (n=2, the unstopped one, the chat); {ends}");
        Assert.Equal(1, m[$"folio:request_success_total{{finished_reason=\"stop\",{Model}}}"]);
        Assert.Equal(1, m[$"folio:request_success_total{{finished_reason=\"abort\",{Model}}}"]);
        Assert.Equal(5, m[$"folio:e2e_request_latency_seconds_count{{{Model}}}"]);
        Assert.Equal(5, m[$"folio:time_to_first_token_seconds_count{{{Model}}}"]);
        Assert.Equal(5, m[$"folio:request_queue_time_seconds_count{{{Model}}}"]);
        Assert.True(m[$"folio:inter_token_latency_seconds_count{{{Model}}}"] > 40);
        Assert.True(m.ContainsKey($"folio:prefix_cache_queries_total{{{Model}}}"));
        Assert.True(m.ContainsKey($"folio:num_preemptions_total{{{Model}}}"));
        Assert.Equal(0, s.Server.LiveRequestTimings);
    }
}
