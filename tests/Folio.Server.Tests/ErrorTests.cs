namespace Folio.Server.Tests;

/// <summary>
/// Each malformed request gets its status and OpenAI's error body, and a good request right after it still
/// succeeds (the server keeps serving).
/// </summary>
public sealed class ErrorTests
{
    private const string Good = """{"prompt": "aabb", "max_tokens": 3, "seed": 1}""";

    private static async Task StillServes(TestServer s)
    {
        var r = await s.PostJsonAsync("/v1/completions", Good);
        Assert.Equal(6, r["choices"]![0]!["text"]!.GetValue<string>().Length);
    }

    [Theory]
    [InlineData("/v1/completions", """{"prompt": "aabb", """, 400, "not valid JSON", null)]
    [InlineData("/v1/completions", """[1, 2]""", 400, "must be a JSON object", null)]
    [InlineData("/v1/completions", """{"max_tokens": 3}""", 400, "'prompt' is required", "prompt")]
    [InlineData("/v1/completions", """{"prompt": 12}""", 400, "'prompt' must be", "prompt")]
    [InlineData("/v1/completions", """{"prompt": "aa", "max_tokens": "3"}""", 400, "'max_tokens' must be an integer; got a string", "max_tokens")]
    [InlineData("/v1/completions", """{"prompt": "aa", "temperature": true}""", 400, "'temperature' must be a number", "temperature")]
    [InlineData("/v1/completions", """{"prompt": "aa", "n": 0}""", 400, "'n' is 0", "n")]
    [InlineData("/v1/completions", """{"prompt": "aa", "stop": [1]}""", 400, "'stop' must be a list of strings", "stop")]
    [InlineData("/v1/completions", """{"prompt": "aa", "stream": "yes"}""", 400, "'stream' must be a boolean", "stream")]
    [InlineData("/v1/completions", """{"prompt": "aa", "stop_token_ids": [64]}""", 400, "outside the vocabulary", "stop_token_ids")]
    [InlineData("/v1/completions", """{"prompt": [1, 99]}""", 400, "outside the vocabulary", "prompt")]
    [InlineData("/v1/completions", """{"prompt": "xyz!"}""", 400, "cannot be tokenized", "prompt")]
    [InlineData("/v1/completions", """{"prompt": "aa", "max_tokens": 5000}""", 400, "maximum context length is 4096", "max_tokens")]
    [InlineData("/v1/completions", """{"prompt": "aa", "stream_options": {"include_usage": true}}""", 400, "only allowed with stream", "stream_options")]
    [InlineData("/v1/chat/completions", """{"messages": "hi"}""", 400, "'messages' must be a non-empty list", "messages")]
    [InlineData("/v1/chat/completions", """{"messages": [{"content": "aa"}]}""", 400, "role", "messages")]
    [InlineData("/v1/chat/completions", """{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}""", 400, "only text parts", "messages")]
    [InlineData("/detokenize", """{"tokens": "aa"}""", 400, "'tokens' must be a list", "tokens")]
    public async Task Bad_requests_get_400_naming_the_field(string path, string json, int status, string message, string? param)
    {
        await using var s = await TestServer.StartAsync();
        await StillServes(s);
        var error = await s.ExpectErrorAsync(path, json, status, message);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        await StillServes(s);
    }

    [Fact]
    public async Task Errors_interleaved_with_good_requests_on_one_server()
    {
        await using var s = await TestServer.StartAsync(maxBodyBytes: 4096);
        string longPrompt = string.Concat(Enumerable.Repeat("ab", 4096));   // 4096 tokens: the whole context, no room left
        for (int round = 0; round < 3; round++)
        {
            await StillServes(s);
            var e404 = await s.ExpectErrorAsync("/v1/completions", """{"model": "gpt-4", "prompt": "aa"}""", 404, "`gpt-4` does not exist");
            Assert.Equal("model_not_found", e404["code"]!.GetValue<string>());
            await StillServes(s);
            // Bodies over the 4 KiB limit: 8 KiB of token ids, then 8 KiB of text.
            await s.ExpectErrorAsync("/v1/completions", $$"""{"prompt": [{{string.Join(",", Enumerable.Repeat(8, 4096))}}]}""", 413, "larger than");
            await StillServes(s);
            var e413 = await s.ExpectErrorAsync("/v1/completions", $$"""{"prompt": "{{longPrompt}}"}""", 413, "larger than");
            Assert.Equal("request_too_large", e413["code"]!.GetValue<string>());
            await StillServes(s);
        }
        await s.WaitIdleAsync();
    }

    [Fact]
    public async Task A_prompt_as_long_as_the_context_is_refused()
    {
        await using var s = await TestServer.StartAsync();
        string prompt = string.Concat(Enumerable.Repeat("ab", TestServer.MaxModelLen));
        await s.ExpectErrorAsync("/v1/completions", $$"""{"prompt": "{{prompt}}"}""", 400, "leaves no room for a completion");
        await StillServes(s);
        await s.ExpectErrorAsync("/v1/completions", $$"""{"prompt": "{{prompt[4..]}}", "max_tokens": 3}""", 400, "you requested 4097 tokens");
        var fits = await s.PostJsonAsync("/v1/completions", $$"""{"prompt": "{{prompt[4..]}}", "max_tokens": 2}""");
        Assert.Equal(4096, fits["usage"]!["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Chat_on_a_model_without_a_template_is_a_clear_400()
    {
        await using var s = await TestServer.StartAsync(chatTemplate: false);
        await s.ExpectErrorAsync("/v1/chat/completions", """{"messages": [{"role": "user", "content": "aa"}]}""", 400, "has no chat template");
        await StillServes(s);
    }

    [Fact]
    public async Task The_api_key_guards_v1_routes_only()
    {
        await using var s = await TestServer.StartAsync(apiKey: "sk-test-123");
        await StillServes(s);
        using var anonymous = new HttpClient { BaseAddress = s.Server.BaseAddress };
        foreach (string? header in new[] { null, "Bearer sk-test-12", "Bearer sk-test-1234", "sk-test-123", "Bearer SK-TEST-123" })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(Good) };
            if (header is not null) request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(401, (int)response.StatusCode);
            Assert.Contains("\"authentication_error\"", await response.Content.ReadAsStringAsync());
            await StillServes(s);
        }
        using var models = await anonymous.GetAsync("/v1/models");
        Assert.Equal(401, (int)models.StatusCode);
        using var health = await anonymous.GetAsync("/health");
        Assert.Equal(200, (int)health.StatusCode);
    }
}
