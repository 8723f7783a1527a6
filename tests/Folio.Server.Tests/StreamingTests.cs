using System.Text;
using System.Text.Json.Nodes;

namespace Folio.Server.Tests;

/// <summary>SSE streaming: framing, stream == whole for a seeded request, stop strings never leave, include_usage.</summary>
public sealed class StreamingTests : IAsyncLifetime
{
    private TestServer _s = null!;

    public async Task InitializeAsync() => _s = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _s.DisposeAsync();

    private async Task<List<JsonNode>> StreamAsync(string path, string json)
    {
        using var response = await _s.PostAsync(path, json, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        return await SseReader.ReadAllAsync(response);
    }

    /// <summary>Per choice index: the concatenated text and the finish reason of a completion stream.</summary>
    private static (Dictionary<int, string> Text, Dictionary<int, string> Reasons) Gather(List<JsonNode> chunks, bool chat)
    {
        var text = new Dictionary<int, string>();
        var reasons = new Dictionary<int, string>();
        foreach (var chunk in chunks)
        {
            foreach (var c in chunk["choices"]!.AsArray())
            {
                int i = c!["index"]!.GetValue<int>();
                string? piece = chat ? c["delta"]!["content"]?.GetValue<string>() : c["text"]!.GetValue<string>();
                text[i] = (text.GetValueOrDefault(i) ?? "") + piece;
                if (c["finish_reason"]?.GetValue<string>() is { } r)
                {
                    Assert.False(reasons.ContainsKey(i), $"choice {i} finished twice");
                    reasons[i] = r;
                }
            }
        }
        return (text, reasons);
    }

    [Fact]
    public async Task A_seeded_stream_concatenates_to_the_whole_response_with_usage_last()
    {
        const string body = """{"prompt": "aabbccdd", "max_tokens": 40, "n": 2, "seed": 9, "temperature": 0.9, "top_k": 20STREAM}""";
        var whole = await _s.PostJsonAsync("/v1/completions", body.Replace("STREAM", ""));
        var chunks = await StreamAsync("/v1/completions", body.Replace("STREAM", """, "stream": true, "stream_options": {"include_usage": true}"""));
        Assert.True(chunks.Count > 10, $"{chunks.Count} chunks: not streamed token by token");
        var (text, reasons) = Gather(chunks, chat: false);
        foreach (var c in whole["choices"]!.AsArray())
        {
            int i = c!["index"]!.GetValue<int>();
            Assert.Equal(c["text"]!.GetValue<string>(), text[i]);
            Assert.Equal("length", reasons[i]);
        }
        var usage = chunks[^1];
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(whole["usage"]!.ToJsonString(), usage["usage"]!.ToJsonString());
        Assert.All(chunks.SkipLast(1), c => Assert.Null(c["usage"]));
        Assert.All(chunks, c => Assert.Equal(chunks[0]["id"]!.GetValue<string>(), c["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Chat_stream_has_a_role_delta_then_content_then_a_finish_and_equals_the_whole()
    {
        const string body = """{"messages": [{"role": "user", "content": "ccdd"}], "max_tokens": 12, "seed": 4STREAM}""";
        var whole = await _s.PostJsonAsync("/v1/chat/completions", body.Replace("STREAM", ""));
        var chunks = await StreamAsync("/v1/chat/completions", body.Replace("STREAM", """, "stream": true"""));
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("length", chunks[^1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.All(chunks, c => Assert.Null(c["usage"]));   // no include_usage
        var (text, _) = Gather(chunks, chat: true);
        Assert.Equal(whole["choices"]![0]!["message"]!["content"]!.GetValue<string>(), text[0]);
    }

    /// <summary>
    /// Stop strings of three letters always straddle two tokens (each token is two letters): the stream and the
    /// whole response both end right before the first occurrence, and the string itself never appears.
    /// </summary>
    [Fact]
    public async Task Stop_strings_split_across_tokens_are_never_emitted()
    {
        const string free = """{"prompt": "aabb", "max_tokens": 60, "seed": 21, "temperature": 1.0}""";
        string full = (await _s.PostJsonAsync("/v1/completions", free))["choices"]![0]!["text"]!.GetValue<string>();
        int tested = 0;
        foreach (int start in new[] { 9, 21, 33, 47 })   // odd offsets: the string begins mid-token
        {
            string stop = full.Substring(start, 3);
            int cut = full.IndexOf(stop, StringComparison.Ordinal);
            string expected = full[..cut];
            string body = free.Replace("}", $$""", "stop": ["zz", "{{stop}}"]STREAM}""");
            var whole = (await _s.PostJsonAsync("/v1/completions", body.Replace("STREAM", "")))["choices"]![0]!;
            Assert.Equal(expected, whole["text"]!.GetValue<string>());
            Assert.Equal("stop", whole["finish_reason"]!.GetValue<string>());
            Assert.Equal(stop, whole["stop_reason"]!.GetValue<string>());
            var chunks = await StreamAsync("/v1/completions", body.Replace("STREAM", """, "stream": true"""));
            var pieces = chunks.Select(c => c["choices"]![0]!["text"]!.GetValue<string>()).ToList();
            Assert.Equal(expected, string.Concat(pieces));
            Assert.All(pieces, p => Assert.DoesNotContain(stop, p));
            Assert.Equal("stop", chunks[^1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
            tested++;
        }
        Assert.Equal(4, tested);
        await _s.WaitIdleAsync();
    }

    [Fact]
    public async Task The_sse_framing_is_exact()
    {
        using var response = await _s.PostAsync("/v1/completions", """{"prompt": "aa", "max_tokens": 2, "seed": 1, "stream": true}""",
            HttpCompletionOption.ResponseHeadersRead);
        string body = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        Assert.Matches(@"^(data: \{[^\n]*\}\n\n){2,3}data: \[DONE\]\n\n$", body);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
    }
}
