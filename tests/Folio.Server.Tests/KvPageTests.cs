using System.Text.Json.Nodes;

namespace Folio.Server.Tests;

/// <summary>GET /kv (the live block-grid page) and GET /kv/state (the engine's KV map as JSON).</summary>
public sealed class KvPageTests
{
    [Fact]
    public async Task The_page_is_self_contained_html_that_reads_kv_state()
    {
        await using var s = await TestServer.StartAsync(apiKey: "secret");
        s.Client.DefaultRequestHeaders.Authorization = null;   // open without the key, as /metrics is
        using var response = await s.Client.GetAsync("/kv");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        string html = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("<!doctype html>", html);
        Assert.Contains("fetch(\"/kv/state\"", html);
        Assert.Contains("<canvas id=\"gpu\"", html);
        // Offline: nothing loaded from elsewhere (no external script, style, font or image).
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain(" src=", html);
        Assert.DoesNotContain("<link", html);
    }

    [Fact]
    public async Task The_state_names_the_running_request_as_owner_of_its_blocks_and_is_empty_after()
    {
        await using var s = await TestServer.StartAsync(stepDelay: TimeSpan.FromMilliseconds(2));
        using var cts = new CancellationTokenSource();
        // 18 prompt tokens: the first block (16) is full from the prefill on, so it is cached however few tokens
        // come before the abort (a shorter prompt made the check below depend on the stream's timing).
        var response = await s.PostAsync("/v1/completions", """{"prompt": "aabbccddeeffgghhaabbccddeeffgghhabcd", "max_tokens": 3000, "seed": 1, "stream": true}""",
            HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var body = await response.Content.ReadAsStreamAsync(cts.Token);
        Assert.True(await body.ReadAsync(new byte[256], cts.Token) > 0);

        var state = JsonNode.Parse(await s.Client.GetStringAsync("/kv/state"))!;
        Assert.Equal("fake", state["model"]!.GetValue<string>());
        Assert.Equal(TestServer.BlockSize, state["block_size"]!.GetValue<int>());
        Assert.Equal(1, state["running"]!.GetValue<int>());
        Assert.Null(state["cpu"]);
        var gpu = state["gpu"]!;
        long[] owner = [.. gpu["owner"]!.AsArray().Select(n => n!.GetValue<long>())];
        int[] refs = [.. gpu["ref_count"]!.AsArray().Select(n => n!.GetValue<int>())];
        int[] tokens = [.. gpu["tokens"]!.AsArray().Select(n => n!.GetValue<int>())];
        Assert.Equal(TestServer.Blocks, owner.Length);
        Assert.Equal(TestServer.Blocks, gpu["cached"]!.AsArray().Count);
        var held = Enumerable.Range(0, owner.Length).Where(b => owner[b] >= 0).ToArray();
        Assert.NotEmpty(held);
        Assert.Single(held.Select(b => owner[b]).Distinct());                    // one request holds them all
        Assert.Equal(held, Enumerable.Range(0, owner.Length).Where(b => refs[b] > 0));   // and nothing else is used
        Assert.All(held, b => Assert.Equal(1, refs[b]));
        Assert.All(held, b => Assert.InRange(tokens[b], 1, TestServer.BlockSize));

        await cts.CancelAsync();
        response.Dispose();
        await s.WaitIdleAsync();
        var after = JsonNode.Parse(await s.Client.GetStringAsync("/kv/state"))!["gpu"]!;
        Assert.All(after["owner"]!.AsArray(), n => Assert.Equal(-1, n!.GetValue<long>()));
        Assert.All(after["ref_count"]!.AsArray(), n => Assert.Equal(0, n!.GetValue<int>()));
        // The prompt's full blocks stay in the prefix cache while free.
        Assert.Contains(after["cached"]!.AsArray(), n => n!.GetValue<int>() == 1);
    }
}
