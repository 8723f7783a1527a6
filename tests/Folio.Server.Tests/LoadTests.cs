using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Folio.Server.Tests;

/// <summary>
/// The server under load on loopback (bounded; stops by itself): 2,000 streaming requests from 200 concurrent
/// clients over the fake model, every tenth client leaving mid-stream. Every other request must arrive whole
/// (its token count, "length", [DONE]); afterwards nothing runs or waits, every KV block is free, the metrics saw
/// every request end, and the process's memory — its resident set, and the managed heap within it — is back within
/// 10% of its level before the load.
/// </summary>
[Collection(nameof(LoadTests))]   // alone: the heap it measures is the whole process's
public sealed class LoadTests
{
    private const int Clients = 200, Requests = 2000, MaxTokens = 24;

    [Fact]
    public async Task Two_thousand_streams_with_ten_percent_disconnecting()
    {
        await using var s = await TestServer.StartAsync(maxSeqs: 256, maxWaiting: 4096);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Clients, MaxResponseDrainSize = 0 })
        {
            BaseAddress = s.Server.BaseAddress, Timeout = TimeSpan.FromSeconds(120),
        };
        // Warm up before the baseline: JIT, and every pool (Kestrel's buffers, the client's 200 connections) at the
        // size the load keeps it, so that what is compared is what the requests themselves leave behind.
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => RunOneAsync(client, -1 - i, leave: false)));
        await s.WaitIdleAsync();
        long before = HeapAfterCollect();
        long rssBefore = ResidentBytes();

        int next = 0, whole = 0, left = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= Requests)
            {
                bool leave = i % 10 == 0;
                try
                {
                    await RunOneAsync(client, i, leave);
                    Interlocked.Increment(ref leave ? ref left : ref whole);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"request {i}: {e.GetType().Name}: {e.Message}");
                }
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(5));
        clock.Stop();
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(5)));
        Assert.Equal(Requests / 10, left);
        Assert.Equal(Requests - Requests / 10, whole);

        await s.WaitIdleAsync();
        for (int i = 0; i < 500 && s.Server.LiveRequestTimings > 0; i++) await Task.Delay(10);
        Assert.Equal(0, s.Server.LiveRequestTimings);
        string metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("folio:num_requests_running{model_name=\"fake\"} 0\n", metrics);
        Assert.Contains("folio:num_requests_waiting{model_name=\"fake\"} 0\n", metrics);
        Assert.Contains("folio:kv_cache_usage_perc{model_name=\"fake\"} 0\n", metrics);
        Assert.Equal(0, s.Engine.GetKvStats().UsedBlocks);
        s.Engine.CheckInvariants();
        long after = HeapAfterCollect();
        long rssAfter = ResidentBytes();
        Console.WriteLine($"load: {Requests} requests ({left} left mid-stream) from {Clients} clients in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"managed heap {before / 1024} KiB before, {after / 1024} KiB after; resident set {rssBefore >> 20} MiB before, {rssAfter >> 20} MiB after");
        Assert.True(after <= before * 1.10 + (512 << 10), $"heap grew from {before} to {after} bytes");
        Assert.True(rssAfter <= rssBefore * 1.10, $"the resident set grew from {rssBefore >> 20} to {rssAfter >> 20} MiB");
    }

    /// <summary>The process's resident set (the whole process's memory: native buffers, sockets, the runtime); read
    /// after <see cref="HeapAfterCollect"/>.</summary>
    private static long ResidentBytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    private static long HeapAfterCollect()
    {
        for (int i = 0; i < 3; i++)
        {
            // Aggressive: the runtime also returns the memory it kept for the next allocations (with a forced
            // collection only, the resident set stayed ~40% above its level before: free, but still committed).
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>One streaming completion: read whole and checked, or (leave) dropped after its first token.</summary>
    private static async Task RunOneAsync(HttpClient client, int i, bool leave)
    {
        using var cts = new CancellationTokenSource();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent($$"""{"prompt": "aabbccdd", "max_tokens": {{MaxTokens}}, "seed": {{i}}, "stream": true}"""),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(200, (int)response.StatusCode);
        using var body = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        int letters = 0;
        string? reason = null;
        bool done = false;
        while (await body.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.Length == 0) continue;
            if (line == "data: [DONE]") { done = true; break; }
            var choice = JsonNode.Parse(line["data: ".Length..])!["choices"]![0]!;
            letters += choice["text"]!.GetValue<string>().Length;
            reason = choice["finish_reason"]?.GetValue<string>() ?? reason;
            if (leave && letters > 0)
            {
                await cts.CancelAsync();   // the client goes away mid-stream
                return;
            }
        }
        Assert.True(done, $"request {i}: no [DONE]");
        Assert.Equal(2 * MaxTokens, letters);
        Assert.Equal("length", reason);
    }
}

/// <summary>Runs <see cref="LoadTests"/> with no other test of the assembly alongside: other tests' allocations
/// would count in its before/after heap comparison (seen in a full run: +3 MB, none of it the load's).</summary>
[CollectionDefinition(nameof(LoadTests), DisableParallelization = true)]
public sealed class LoadTestsCollection;
