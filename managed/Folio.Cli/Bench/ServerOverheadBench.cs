using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Server;

namespace Folio.Cli.Bench;

/// <summary>
/// Benchmark B10 (<c>folio bench --server</c>): what <c>folio serve</c> adds over the engine alone, on the fake model
/// (no compute), in one process on loopback. One engine and one server; each round runs, alternately on that same
/// engine and its background loop:
/// <list type="bullet">
/// <item>load: <c>Clients</c> concurrent streaming completions (<c>Requests</c> in all, <c>MaxTokens</c> each) once
/// submitted straight to the engine (<see cref="LlmEngine.Submit"/>, read with <c>await foreach</c>) and once over
/// HTTP (<c>stream: true</c>, SSE read by a client that only counts events, so that the client's own cost stays
/// small: it shares the cores with the server). Streamed tokens/s, TTFT percentiles, process CPU and bytes
/// allocated per token;</item>
/// <item>idle TTFT: single requests one after another, engine and HTTP interleaved, so the two see the same
/// machine: time from submitting (sending) to the first token (the first SSE event).</item>
/// </list>
/// The added TTFT is the difference of the two medians of each round; the report gives every round.
/// </summary>
public static class ServerOverheadBench
{
    /// <param name="Rate">Requests per second of the open-loop phase (0 = none).</param>
    public sealed record Options(int Clients, int Requests, int MaxTokens, int TtftSamples, int Rounds, double Rate = 0);

    /// <param name="LateMs">Open loop: how late each request was sent after its scheduled arrival (the driver's own
    /// delay, already inside its TTFT, which counts from the scheduled time); empty in the closed loop.</param>
    private sealed record Phase(string Name, double Seconds, long Tokens, double[] TtftMs, double CpuMs, long AllocBytes, int Failures, double[] LateMs)
    {
        /// <summary>Open loop: TTFT counted from the actual send instead of the scheduled arrival (the driver shares
        /// the process: under the server's CPU use it sends later, which the scheduled-arrival TTFT charges to the
        /// server and this one does not; the truth for clients on other machines lies between).</summary>
        public double[] SendTtftMs => [.. TtftMs.Zip(LateMs, (t, l) => t - l)];

        public double TokensPerS => Tokens / Seconds;
        public double CpuUsPerToken => CpuMs * 1000 / Math.Max(1, Tokens);
        public double AllocPerToken => (double)AllocBytes / Math.Max(1, Tokens);
    }

    private const string Prompt = "aabbccdd";
    private static readonly int[] PromptIds = new PairTokenizer().Encode(Prompt, addSpecialTokens: false);

    public static int Run(Options o)
    {
        if (o.Clients < 1 || o.Requests < o.Clients || o.MaxTokens < 1 || o.TtftSamples < 1 || o.Rounds < 1 || o.Rate < 0)
            throw new UsageException($"--server: needs --clients ≥ 1 (got {o.Clients}), --requests ≥ --clients (got {o.Requests}), --output-len ≥ 1 (got {o.MaxTokens}), --rounds ≥ 1 (got {o.Rounds}) and --rate ≥ 0 (got {o.Rate})");
        return RunAsync(o).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(Options o)
    {
        int blocksPerRequest = (PromptIds.Length + o.MaxTokens + 15) / 16 + 1;
        var model = FakeServedModel.Create("fake", numGpuBlocks: Math.Max(1024, o.Clients * blocksPerRequest * 2), maxNumSeqs: o.Clients,
            maxModelLen: PromptIds.Length + o.MaxTokens + 16, simulateKv: false);
        var server = FolioServer.Create(model, new ServerOptions { Port = 0, MaxWaitingRequests = o.Requests * 2 }, Microsoft.Extensions.Logging.LogLevel.Error);
        await using (server.ConfigureAwait(false))
        {
            await server.StartAsync().ConfigureAwait(false);
            using var client = new HttpClient(new SocketsHttpHandler
            {
                MaxConnectionsPerServer = o.Clients, MaxResponseDrainSize = 0, UseProxy = false, AutomaticDecompression = DecompressionMethods.None,
            })
            { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            var engine = model.Engine;
            Console.WriteLine($"B10 server overhead: fake model, {Environment.ProcessorCount} cores, {o.Clients} concurrent streams × {o.Requests} requests of " +
                $"{o.MaxTokens} tokens; idle TTFT over {o.TtftSamples} single requests;" +
                (o.Rate > 0 ? $" {PacedCount(o)} requests arriving at {o.Rate:F0}/s ({o.Rate * o.MaxTokens:F0} tok/s offered);" : "") +
                $" {o.Rounds} rounds, engine alone and HTTP alternately");
            // Warm-up: JIT, the connection pool at its working size, Kestrel's buffers.
            await LoadAsync("warm-up engine", o with { Requests = o.Clients }, (i, start) => EngineRequestAsync(engine, i, o.MaxTokens, start)).ConfigureAwait(false);
            await LoadAsync("warm-up http", o with { Requests = o.Clients }, (i, start) => HttpRequestAsync(client, i, o.MaxTokens, start)).ConfigureAwait(false);
            await IdleTtftAsync(engine, client, o with { TtftSamples = Math.Min(50, o.TtftSamples) }).ConfigureAwait(false);

            var rows = new List<(Phase Engine, Phase Http, double IdleEngineP50, double IdleHttpP50, Phase? PacedEngine, Phase? PacedHttp)>();
            int failures = 0;
            for (int round = 1; round <= o.Rounds; round++)
            {
                var e = await LoadAsync("engine", o, (i, start) => EngineRequestAsync(engine, i, o.MaxTokens, start)).ConfigureAwait(false);
                var h = await LoadAsync("http", o, (i, start) => HttpRequestAsync(client, i, o.MaxTokens, start)).ConfigureAwait(false);
                var (ie, ih) = await IdleTtftAsync(engine, client, o).ConfigureAwait(false);
                Phase? pe = null, ph = null;
                if (o.Rate > 0)
                {
                    // The same arrival times against the engine alone and through the server; which goes first
                    // alternates by round, so that a drift of the machine's other load does not favour either.
                    Task<Phase> PacedEngine() => PacedAsync("paced engine", PacedCount(o), o.Rate, o.MaxTokens, (i, start) => EngineRequestAsync(engine, i, o.MaxTokens, start));
                    Task<Phase> PacedHttp() => PacedAsync("paced http", PacedCount(o), o.Rate, o.MaxTokens, (i, start) => HttpRequestAsync(client, i, o.MaxTokens, start));
                    if (round % 2 == 1)
                    {
                        pe = await PacedEngine().ConfigureAwait(false);
                        ph = await PacedHttp().ConfigureAwait(false);
                    }
                    else
                    {
                        ph = await PacedHttp().ConfigureAwait(false);
                        pe = await PacedEngine().ConfigureAwait(false);
                    }
                    failures += pe.Failures + ph.Failures;
                }
                failures += e.Failures + h.Failures;
                rows.Add((e, h, Percentile(ie, 0.5), Percentile(ih, 0.5), pe, ph));
                Console.WriteLine($"round {round}:");
                Print(e);
                Print(h);
                Console.WriteLine($"  idle TTFT p50 (p99): engine {Percentile(ie, 0.5):F3} ({Percentile(ie, 0.99):F3}) ms, http {Percentile(ih, 0.5):F3} " +
                    $"({Percentile(ih, 0.99):F3}) ms, added {Percentile(ih, 0.5) - Percentile(ie, 0.5):F3} ms");
                if (pe is not null && ph is not null)
                {
                    Print(pe);
                    Print(ph);
                    Console.WriteLine($"  paced TTFT p50 ({o.Rate:F1} requests/s = {o.Rate * o.MaxTokens:F0} tok/s offered, {(round % 2 == 1 ? "engine" : "http")} first): " +
                        $"engine {Percentile(pe.TtftMs, 0.5):F3} ms, http {Percentile(ph.TtftMs, 0.5):F3} ms, added {Percentile(ph.TtftMs, 0.5) - Percentile(pe.TtftMs, 0.5):F3} ms; " +
                        $"arrivals late p50/max: engine {Percentile(pe.LateMs, 0.5):F2}/{Percentile(pe.LateMs, 1):F2} ms, http {Percentile(ph.LateMs, 0.5):F2}/{Percentile(ph.LateMs, 1):F2} ms");
                    Console.WriteLine($"  paced TTFT p50 from the send: engine {Percentile(pe.SendTtftMs, 0.5):F3} ms, http {Percentile(ph.SendTtftMs, 0.5):F3} ms, " +
                        $"added {Percentile(ph.SendTtftMs, 0.5) - Percentile(pe.SendTtftMs, 0.5):F3} ms");
                }
            }
            double Median(Func<(Phase Engine, Phase Http, double IdleEngineP50, double IdleHttpP50, Phase? PacedEngine, Phase? PacedHttp), double> f) =>
                Percentile([.. rows.Select(f)], 0.5);
            Console.WriteLine($"median of {o.Rounds} rounds: http {Median(r => r.Http.TokensPerS):F0} streamed tok/s (engine alone {Median(r => r.Engine.TokensPerS):F0}); " +
                $"idle TTFT added {Median(r => r.IdleHttpP50 - r.IdleEngineP50):F3} ms p50; under load TTFT p50 added " +
                $"{Median(r => Percentile(r.Http.TtftMs, 0.5) - Percentile(r.Engine.TtftMs, 0.5)):F3} ms" +
                (o.Rate > 0 ? $"; at {o.Rate:F1} requests/s ({o.Rate * o.MaxTokens:F0} tok/s offered) TTFT p50 added {Median(r => Percentile(r.PacedHttp!.TtftMs, 0.5) - Percentile(r.PacedEngine!.TtftMs, 0.5)):F3} ms " +
                    $"(from the send: {Median(r => Percentile(r.PacedHttp!.SendTtftMs, 0.5) - Percentile(r.PacedEngine!.SendTtftMs, 0.5)):F3} ms)" : ""));
            await WaitIdleAsync(engine).ConfigureAwait(false);
            var kv = engine.GetKvStats();
            Console.WriteLine($"after: {kv.UsedBlocks} KV blocks used, {failures} failed requests");
            return failures == 0 && kv.UsedBlocks == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        }
    }

    /// <summary>The open-loop phase's requests: three seconds of arrivals, at most --requests.</summary>
    private static int PacedCount(Options o) => (int)Math.Clamp(o.Rate * 3, 1, o.Requests);

    private static void Print(Phase p) =>
        Console.WriteLine($"  {p.Name,-12} {p.TokensPerS,9:F0} tok/s  {p.Tokens} tokens in {p.Seconds:F2} s  TTFT p50 {Percentile(p.TtftMs, 0.5):F2} ms " +
            $"p99 {Percentile(p.TtftMs, 0.99):F2} ms  CPU {p.CpuUsPerToken:F1} us/token  alloc {p.AllocPerToken:F0} B/token" +
            (p.Failures > 0 ? $"  FAILED {p.Failures}" : ""));

    /// <summary>Closed loop: <paramref name="o"/>.Requests requests from <paramref name="o"/>.Clients concurrent workers.</summary>
    private static Task<Phase> LoadAsync(string name, Options o, Func<int, long, Task<(long Tokens, double TtftMs)>> one) =>
        MeasureAsync(name, o.Requests, o.MaxTokens, one, (run, _) =>
        {
            int next = -1;
            return Task.WhenAll(Enumerable.Range(0, o.Clients).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < o.Requests)
                    await run(i, Stopwatch.GetTimestamp()).ConfigureAwait(false);
            })));
        });

    /// <summary>Open loop: <paramref name="count"/> requests arriving at <paramref name="rate"/> per second (evenly
    /// spaced), whatever the previous ones are doing: TTFT at a given offered load. Each request's TTFT counts from its
    /// scheduled arrival, not from when the driver got to send it, so a driver that falls behind (a starved process)
    /// shows as latency instead of silently lowering the offered load; how late it sent is reported beside.</summary>
    private static Task<Phase> PacedAsync(string name, int count, double rate, int maxTokens, Func<int, long, Task<(long Tokens, double TtftMs)>> one) =>
        MeasureAsync(name, count, maxTokens, one, async (run, late) =>
        {
            var started = new Task[count];
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < count; i++)
            {
                long due = t0 + (long)(i * Stopwatch.Frequency / rate);
                double wait = (due - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
                // Never early (the timer's unit is 1 ms: round up); a late send is measured, not hidden.
                if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait))).ConfigureAwait(false);
                int k = i;
                started[i] = Task.Run(() =>
                {
                    late[k] = Math.Max(0, (Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency);
                    return run(k, due);
                });
            }
            await Task.WhenAll(started).ConfigureAwait(false);
        }, openLoop: true);

    /// <summary>Runs a phase (<paramref name="drive"/> calls its argument once per request index) and measures it:
    /// wall time, tokens (each request must stream all <paramref name="maxTokens"/>), TTFT, process CPU, bytes allocated.</summary>
    private static async Task<Phase> MeasureAsync(string name, int count, int maxTokens, Func<int, long, Task<(long Tokens, double TtftMs)>> one,
        Func<Func<int, long, Task>, double[], Task> drive, bool openLoop = false)
    {
        var ttft = new double[count];
        var late = openLoop ? new double[count] : [];
        long tokens = 0;
        int failures = 0;
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        long alloc0 = GC.GetTotalAllocatedBytes(precise: false);
        var clock = Stopwatch.StartNew();
        await drive(async (i, start) =>
        {
            try
            {
                var (t, ms) = await one(i, start).ConfigureAwait(false);
                if (t != maxTokens) throw new InvalidOperationException($"request {i}: {t} tokens, expected {maxTokens}");
                Interlocked.Add(ref tokens, t);
                ttft[i] = ms;
            }
            catch (Exception e)
            {
                if (Interlocked.Increment(ref failures) <= 3)
                    Console.Error.WriteLine($"{name}: {e.GetType().Name}: {e.Message}");
                ttft[i] = double.NaN;
            }
        }, late).ConfigureAwait(false);
        clock.Stop();
        long alloc = GC.GetTotalAllocatedBytes(precise: false) - alloc0;
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpu0).TotalMilliseconds;
        // A failed request has no TTFT; its lateness goes with it (the two arrays stay aligned).
        double[] lateOk = openLoop ? [.. late.Where((_, i) => double.IsFinite(ttft[i]))] : [];
        return new Phase(name, clock.Elapsed.TotalSeconds, tokens, [.. ttft.Where(double.IsFinite)], cpuMs, alloc, failures, lateOk);
    }

    /// <summary>Single requests one after another, engine and HTTP alternately (the same machine state for both).</summary>
    private static async Task<(double[] Engine, double[] Http)> IdleTtftAsync(LlmEngine engine, HttpClient client, Options o)
    {
        var e = new double[o.TtftSamples];
        var h = new double[o.TtftSamples];
        for (int i = 0; i < o.TtftSamples; i++)
        {
            await WaitIdleAsync(engine).ConfigureAwait(false);
            e[i] = (await EngineRequestAsync(engine, i, 4, Stopwatch.GetTimestamp()).ConfigureAwait(false)).TtftMs;
            await WaitIdleAsync(engine).ConfigureAwait(false);
            h[i] = (await HttpRequestAsync(client, i, 4, Stopwatch.GetTimestamp()).ConfigureAwait(false)).TtftMs;
        }
        return (e, h);
    }

    /// <summary>The engine alone: submit, read the stream; TTFT = <paramref name="start"/> (now, or the request's
    /// scheduled arrival in the open loop) → the first output carrying a token.</summary>
    private static async Task<(long Tokens, double TtftMs)> EngineRequestAsync(LlmEngine engine, int seed, int maxTokens, long start)
    {
        var stream = engine.Submit(PromptIds, new SamplingParams { MaxTokens = maxTokens, Seed = seed });
        long tokens = 0;
        double ttft = double.NaN;
        await foreach (var output in stream.ConfigureAwait(false))
        {
            foreach (var c in output.Outputs)
            {
                if (c.TokenIds.Count > 0 && double.IsNaN(ttft)) ttft = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                tokens += c.TokenIds.Count;
            }
        }
        return (tokens, ttft);
    }

    /// <summary>
    /// One streaming completion over HTTP: TTFT = <paramref name="start"/> (now, or the request's scheduled arrival in
    /// the open loop) → the first body bytes (the first event: a completion stream's
    /// first event is its first token). Tokens = events before [DONE] (each carries one token of the fake model:
    /// every token adds two letters and there are no stop strings). Counts bytes only, parses no JSON.
    /// </summary>
    private static async Task<(long Tokens, double TtftMs)> HttpRequestAsync(HttpClient client, int seed, int maxTokens, long start)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"model":"fake","prompt":"{{Prompt}}","max_tokens":{{maxTokens}},"seed":{{seed}},"stream":true}""");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"status {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        using var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        var buffer = new byte[16 << 10];
        double ttft = double.NaN;
        long events = 0;
        byte last = 0;
        int read;
        var tail = new List<byte>(16);
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (double.IsNaN(ttft)) ttft = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            for (int k = 0; k < read; k++)
            {
                byte b = buffer[k];
                if (b == (byte)'\n' && last == (byte)'\n') events++;
                last = b;
            }
            // Keep the last bytes to check the stream ended with [DONE].
            tail.AddRange(buffer.AsSpan(Math.Max(0, read - 16), Math.Min(16, read)));
            if (tail.Count > 16) tail.RemoveRange(0, tail.Count - 16);
        }
        if (!Encoding.ASCII.GetString([.. tail]).EndsWith("data: [DONE]\n\n", StringComparison.Ordinal))
            throw new InvalidOperationException("the stream did not end with data: [DONE]");
        return (events - 1, ttft);
    }

    private static async Task WaitIdleAsync(LlmEngine engine)
    {
        for (int i = 0; i < 10_000 && (engine.HasUnfinished || engine.GetKvStats().UsedBlocks > 0); i++)
            await Task.Delay(1).ConfigureAwait(false);
    }

    private static double Percentile(double[] values, double q)
    {
        if (values.Length == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
