using System.Text;
using System.Text.RegularExpressions;
using Folio.Core.Engine;
using Prometheus;

namespace Folio.Server;

/// <summary>
/// GET /metrics: vLLM's metric names and labels under the <c>folio:</c> prefix, so a vLLM dashboard needs only its
/// prefix changed. Engine-wide values (queues, KV usage, prefix cache, preemptions, token counts) are read from the
/// engine at each scrape; per-request latencies come from <see cref="RequestTimings"/>, fed by every engine step.
/// Counters carry Prometheus' <c>_total</c> suffix as vLLM's exporter writes them.
/// </summary>
internal sealed partial class ServerMetrics
{
    private static readonly double[] TtftBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
    private static readonly double[] ItlBuckets =
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
    private static readonly double[] RequestBuckets =
        [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly LlmEngine _engine;

    public ServerMetrics(ServedModel model)
    {
        _engine = model.Engine;
        var f = Prometheus.Metrics.WithCustomRegistry(_registry).WithLabels(new Dictionary<string, string> { ["model_name"] = model.Name });
        var running = f.CreateGauge("folio_num_requests_running", "Number of requests in model execution batches.");
        var waiting = f.CreateGauge("folio_num_requests_waiting", "Number of requests waiting to be processed.");
        var kvUsage = f.CreateGauge("folio_kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.");
        var prefixQueries = f.CreateCounter("folio_prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.");
        var prefixHits = f.CreateCounter("folio_prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.");
        var preemptions = f.CreateCounter("folio_num_preemptions_total", "Cumulative number of preemptions from the engine.");
        var promptTokens = f.CreateCounter("folio_prompt_tokens_total", "Number of prefill tokens processed.");
        var generationTokens = f.CreateCounter("folio_generation_tokens_total", "Number of generation tokens processed.");
        var timings = new RequestTimings(
            f.CreateCounter("folio_request_success_total", "Count of successfully processed requests.", ["finished_reason"]),
            f.CreateHistogram("folio_time_to_first_token_seconds", "Histogram of time to first token in seconds.", new HistogramConfiguration { Buckets = TtftBuckets }),
            f.CreateHistogram("folio_inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", new HistogramConfiguration { Buckets = ItlBuckets }),
            f.CreateHistogram("folio_e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", new HistogramConfiguration { Buckets = RequestBuckets }),
            f.CreateHistogram("folio_request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", new HistogramConfiguration { Buckets = RequestBuckets }));
        Timings = timings;
        _engine.StepCompleted += timings.OnStep;
        _registry.AddBeforeCollectCallback(() =>
        {
            var s = _engine.GetSchedulerStats();
            var kv = _engine.GetKvStats();
            var tokens = _engine.GetTokenCounts();
            running.Set(s.NumRunning);
            waiting.Set(s.NumWaiting);
            kvUsage.Set(kv.TotalBlocks == 0 ? 0 : (double)kv.UsedBlocks / kv.TotalBlocks);
            prefixQueries.IncTo(kv.PrefixQueryTokens);
            prefixHits.IncTo(kv.PrefixHitTokens);
            preemptions.IncTo(s.Preemptions);
            promptTokens.IncTo(tokens.PromptTokens);
            generationTokens.IncTo(tokens.GeneratedTokens);
        });
    }

    public RequestTimings Timings { get; }

    /// <summary>
    /// The Prometheus text exposition of every metric. prometheus-net refuses ':' in names (its check predates the
    /// exposition format's allowance), so the metrics are registered as <c>folio_*</c> and the prefix is written
    /// as vLLM's <c>vllm:</c> is: <c>folio:*</c>, on sample, HELP and TYPE lines alike.
    /// </summary>
    public async Task WriteAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(buffer, cancellationToken).ConfigureAwait(false);
        string text = PrefixPattern().Replace(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), "$1folio:");
        await body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
    }

    [GeneratedRegex("(^|# HELP |# TYPE )folio_", RegexOptions.Multiline)]
    private static partial Regex PrefixPattern();

    public void Detach() => _engine.StepCompleted -= Timings.OnStep;
}
