namespace Folio.Server.Tests;

/// <summary>A client that leaves aborts its request and frees its blocks at once; a full queue answers 429.</summary>
public sealed class DisconnectTests
{
    [Fact]
    public async Task A_client_that_disconnects_mid_stream_aborts_its_request_and_frees_its_blocks()
    {
        // 2 ms per step: a 3,000-token request would run for seconds; it is cut after a few chunks.
        await using var s = await TestServer.StartAsync(stepDelay: TimeSpan.FromMilliseconds(2));
        using var cts = new CancellationTokenSource();
        var response = await s.PostAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 3000, "seed": 1, "stream": true}""",
            HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var body = await response.Content.ReadAsStreamAsync(cts.Token);
        var buffer = new byte[256];
        Assert.True(await body.ReadAsync(buffer, cts.Token) > 0);
        Assert.Equal(1, s.Engine.GetSchedulerStats().NumRunning);
        Assert.True(s.Engine.GetKvStats().UsedBlocks > 0);
        await cts.CancelAsync();
        response.Dispose();   // the connection closes: RequestAborted fires on the server
        await s.WaitIdleAsync();
        Assert.True(s.Engine.GetTokenCounts().GeneratedTokens < 3000, "the request ran to its end instead of being aborted");
        var next = await s.PostJsonAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 3, "seed": 1}""");
        Assert.Equal("length", next["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_non_streaming_client_that_disconnects_aborts_too()
    {
        await using var s = await TestServer.StartAsync(stepDelay: TimeSpan.FromMilliseconds(2));
        using var cts = new CancellationTokenSource();
        var pending = s.PostAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 3000, "n": 2, "seed": 1}""", cancellationToken: cts.Token);
        for (int i = 0; i < 500 && s.Engine.GetKvStats().UsedBlocks == 0; i++) await Task.Delay(10);
        Assert.True(s.Engine.GetKvStats().UsedBlocks > 0);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await s.WaitIdleAsync();
        Assert.True(s.Engine.GetTokenCounts().GeneratedTokens < 6000);
    }

    [Fact]
    public async Task A_full_queue_answers_429_and_serves_again_once_it_drains()
    {
        // One sequence at a time, one waiting allowed: a long running request, one waiting, the third refused.
        await using var s = await TestServer.StartAsync(maxSeqs: 1, maxWaiting: 1, stepDelay: TimeSpan.FromMilliseconds(2));
        using var cts = new CancellationTokenSource();
        var running = await s.PostAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 3000, "stream": true}""",
            HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var waiting = s.PostJsonAsync("/v1/completions", """{"prompt": "ccdd", "max_tokens": 2}""");
        for (int i = 0; i < 500 && s.Engine.GetSchedulerStats().NumWaiting == 0; i++) await Task.Delay(10);
        Assert.Equal(1, s.Engine.GetSchedulerStats().NumWaiting);
        var error = await s.ExpectErrorAsync("/v1/completions", """{"prompt": "eeff", "max_tokens": 2}""", 429, "busy");
        Assert.Equal("rate_limit_error", error["type"]!.GetValue<string>());
        await cts.CancelAsync();
        running.Dispose();
        var done = await waiting;   // the waiting request runs once the long one is aborted
        Assert.Equal("length", done["choices"]![0]!["finish_reason"]!.GetValue<string>());
        await s.WaitIdleAsync();
    }
}
