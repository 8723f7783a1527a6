using System.Text.Json.Nodes;

namespace Folio.Server.Tests;

/// <summary>
/// logprobs (completions: k; chat: logprobs + top_logprobs) and echo. The fake executor draws each token's
/// log-probability from its random stream and lists the sampled token first among its top k with that same value,
/// so the sampled token's logprob the server derives (the step's increase of the cumulative logprob) can be
/// checked exactly against the top list the engine recorded.
/// </summary>
public sealed class LogprobsTests : IAsyncLifetime
{
    private TestServer _s = null!;

    public async Task InitializeAsync() => _s = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task Completion_logprobs_give_each_token_its_logprob_top_k_and_offset()
    {
        var body = await _s.PostJsonAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 6, "n": 2, "seed": 3, "logprobs": 3}""");
        var choices = body["choices"]!.AsArray();
        Assert.Equal(2, choices.Count);
        foreach (var c in choices)
        {
            string text = c!["text"]!.GetValue<string>();
            var lp = c["logprobs"]!;
            string[] tokens = [.. lp["tokens"]!.AsArray().Select(t => t!.GetValue<string>())];
            float[] logprobs = [.. lp["token_logprobs"]!.AsArray().Select(t => t!.GetValue<float>())];
            int[] offsets = [.. lp["text_offset"]!.AsArray().Select(t => t!.GetValue<int>())];
            var tops = lp["top_logprobs"]!.AsArray();
            Assert.Equal(6, tokens.Length);
            Assert.Equal(text, string.Concat(tokens));
            Assert.Equal([0, 2, 4, 6, 8, 10], offsets);
            for (int i = 0; i < tokens.Length; i++)
            {
                Assert.InRange(logprobs[i], -1.02f, -0.01f);   // the fake's rank-0 values: -(0.01 + [0, 1))
                var top = tops[i]!.AsObject();
                Assert.InRange(top.Count, 1, 4);                // k = 3, plus the sampled token when not among them
                Assert.Equal(logprobs[i], top[tokens[i]]!.GetValue<float>());
            }
        }
        Assert.NotEqual(choices[0]!["logprobs"]!["token_logprobs"]!.ToJsonString(), choices[1]!["logprobs"]!["token_logprobs"]!.ToJsonString());
    }

    [Fact]
    public async Task Streamed_logprobs_equal_the_whole_response()
    {
        const string request = """{"prompt": "ccdd", "max_tokens": 8, "seed": 11, "logprobs": 2""";
        var whole = (await _s.PostJsonAsync("/v1/completions", request + "}"))["choices"]![0]!["logprobs"]!;
        using var response = await _s.PostAsync("/v1/completions", request + """, "stream": true}""", HttpCompletionOption.ResponseHeadersRead);
        var chunks = await SseReader.ReadAllAsync(response);
        var tokens = new JsonArray();
        var logprobs = new JsonArray();
        var offsets = new JsonArray();
        foreach (var chunk in chunks)
        {
            foreach (var c in chunk["choices"]!.AsArray())
            {
                if (c!["logprobs"] is not JsonObject lp) continue;
                foreach (var t in lp["tokens"]!.AsArray()) tokens.Add(t!.DeepClone());
                foreach (var t in lp["token_logprobs"]!.AsArray()) logprobs.Add(t!.DeepClone());
                foreach (var t in lp["text_offset"]!.AsArray()) offsets.Add(t!.DeepClone());
            }
        }
        Assert.Equal(whole["tokens"]!.ToJsonString(), tokens.ToJsonString());
        Assert.Equal(whole["token_logprobs"]!.ToJsonString(), logprobs.ToJsonString());
        Assert.Equal(whole["text_offset"]!.ToJsonString(), offsets.ToJsonString());
    }

    [Fact]
    public async Task Chat_logprobs_list_each_token_with_bytes_and_its_top_alternatives()
    {
        var body = await _s.PostJsonAsync("/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "aabb"}], "max_tokens": 5, "seed": 2, "logprobs": true, "top_logprobs": 2}""");
        var choice = body["choices"]![0]!;
        var content = choice["logprobs"]!["content"]!.AsArray();
        Assert.Equal(5, content.Count);
        Assert.Equal(choice["message"]!["content"]!.GetValue<string>(), string.Concat(content.Select(e => e!["token"]!.GetValue<string>())));
        foreach (var e in content)
        {
            string token = e!["token"]!.GetValue<string>();
            Assert.Equal(token.Select(ch => (int)ch), e["bytes"]!.AsArray().Select(b => b!.GetValue<int>()));   // ASCII pairs
            var top = e["top_logprobs"]!.AsArray();
            Assert.Equal(2, top.Count);
            // The fake lists the sampled token first, with its own logprob.
            Assert.Equal(token, top[0]!["token"]!.GetValue<string>());
            Assert.Equal(e["logprob"]!.GetValue<float>(), top[0]!["logprob"]!.GetValue<float>());
            Assert.True(top[1]!["logprob"]!.GetValue<float>() < top[0]!["logprob"]!.GetValue<float>());
        }

        // logprobs without top_logprobs: each token with an empty list; without logprobs: null.
        var bare = await _s.PostJsonAsync("/v1/chat/completions", """{"messages": [{"role": "user", "content": "aabb"}], "max_tokens": 2, "logprobs": true}""");
        Assert.All(bare["choices"]![0]!["logprobs"]!["content"]!.AsArray(), e => Assert.Empty(e!["top_logprobs"]!.AsArray()));
        var none = await _s.PostJsonAsync("/v1/chat/completions", """{"messages": [{"role": "user", "content": "aabb"}], "max_tokens": 2}""");
        Assert.Null(none["choices"]![0]!["logprobs"]);
    }

    [Fact]
    public async Task Streamed_chat_logprobs_come_with_their_content_deltas()
    {
        using var response = await _s.PostAsync("/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "aabb"}], "max_tokens": 4, "seed": 5, "logprobs": true, "top_logprobs": 1, "stream": true}""",
            HttpCompletionOption.ResponseHeadersRead);
        var chunks = await SseReader.ReadAllAsync(response);
        int withLogprobs = 0;
        foreach (var c in chunks.SelectMany(ch => ch["choices"]!.AsArray()))
        {
            if (c!["logprobs"] is not JsonObject lp) continue;
            var entries = lp["content"]!.AsArray();
            Assert.Equal(c["delta"]!["content"]!.GetValue<string>(), string.Concat(entries.Select(e => e!["token"]!.GetValue<string>())));
            withLogprobs += entries.Count;
        }
        Assert.Equal(4, withLogprobs);
    }

    [Fact]
    public async Task Echo_puts_the_prompt_before_the_completion_whole_and_streamed()
    {
        var whole = await _s.PostJsonAsync("/v1/completions", """{"prompt": ["aabb", [2, 3]], "max_tokens": 3, "seed": 4, "echo": true}""");
        var choices = whole["choices"]!.AsArray();
        Assert.StartsWith("aabb", choices[0]!["text"]!.GetValue<string>());
        Assert.StartsWith("cada", choices[1]!["text"]!.GetValue<string>());   // token ids 2, 3 decoded
        Assert.Equal(4 + 6, choices[0]!["text"]!.GetValue<string>().Length);

        using var response = await _s.PostAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 3, "seed": 4, "echo": true, "stream": true}""",
            HttpCompletionOption.ResponseHeadersRead);
        var chunks = await SseReader.ReadAllAsync(response);
        Assert.Equal("aabb", chunks[0]["choices"]![0]!["text"]!.GetValue<string>());
        string streamed = string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["text"]!.GetValue<string>()));
        Assert.Equal(choices[0]!["text"]!.GetValue<string>(), streamed);

        await _s.ExpectErrorAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 3, "echo": true, "logprobs": 1}""", 400, "prompt logprobs");
        await _s.ExpectErrorAsync("/v1/completions", """{"prompt": "aabb", "max_tokens": 3, "logprobs": 21}""", 400, "logprobs");
    }
}
