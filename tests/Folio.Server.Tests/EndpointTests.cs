using System.Text.Json.Nodes;

namespace Folio.Server.Tests;

/// <summary>Each endpoint's answer on the fake model, checked against what the engine alone produces.</summary>
public sealed class EndpointTests : IAsyncLifetime
{
    private TestServer _s = null!;

    public async Task InitializeAsync() => _s = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task Models_and_health()
    {
        var models = JsonNode.Parse(await _s.Client.GetStringAsync("/v1/models"))!;
        Assert.Equal("list", models["object"]!.GetValue<string>());
        var card = models["data"]![0]!;
        Assert.Equal("fake", card["id"]!.GetValue<string>());
        Assert.Equal("model", card["object"]!.GetValue<string>());
        Assert.Equal(TestServer.MaxModelLen, card["max_model_len"]!.GetValue<int>());
        using var health = await _s.Client.GetAsync("/health");
        Assert.Equal(200, (int)health.StatusCode);
    }

    [Fact]
    public async Task Tokenize_and_detokenize_round_trip()
    {
        var t = await _s.PostJsonAsync("/tokenize", """{"prompt": "abbahh"}""");
        Assert.Equal([8, 1, 63], t["tokens"]!.AsArray().Select(x => x!.GetValue<int>()));
        Assert.Equal(3, t["count"]!.GetValue<int>());
        var chat = await _s.PostJsonAsync("/tokenize", """{"messages": [{"role": "user", "content": "abba"}]}""");
        Assert.Equal([8, 1, 63], chat["tokens"]!.AsArray().Select(x => x!.GetValue<int>()));   // + "hh" generation prompt
        var d = await _s.PostJsonAsync("/detokenize", """{"tokens": [8, 1, 63]}""");
        Assert.Equal("abbahh", d["prompt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Completion_with_n_returns_each_sample_with_usage_and_the_engines_text()
    {
        var r = await _s.PostJsonAsync("/v1/completions", """{"model": "fake", "prompt": "aabbcc", "max_tokens": 7, "n": 2, "seed": 5, "temperature": 1.0}""");
        Assert.Equal("text_completion", r["object"]!.GetValue<string>());
        var choices = r["choices"]!.AsArray();
        Assert.Equal([0, 1], choices.Select(c => c!["index"]!.GetValue<int>()));
        foreach (var c in choices)
        {
            Assert.Equal(14, c!["text"]!.GetValue<string>().Length);   // 7 tokens of two letters
            Assert.Equal("length", c["finish_reason"]!.GetValue<string>());
        }
        Assert.Equal(3, r["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(14, r["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(17, r["usage"]!["total_tokens"]!.GetValue<int>());
        // The same request through the engine directly gives the same text.
        var direct = _s.Engine.Generate([[0, 9, 18]], new Core.Sampling.SamplingParams { N = 2, Seed = 5, MaxTokens = 7, Temperature = 1.0f })[0];
        Assert.Equal(direct.Outputs.OrderBy(o => o.Index).Select(o => o.Text), choices.Select(c => c!["text"]!.GetValue<string>()));
        await _s.WaitIdleAsync();
    }

    [Fact]
    public async Task Several_prompts_give_n_choices_each_in_prompt_order()
    {
        var r = await _s.PostJsonAsync("/v1/completions", """{"prompt": ["aabb", [2, 3, 4]], "max_tokens": 3, "n": 2, "seed": 1}""");
        var choices = r["choices"]!.AsArray();
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c!["index"]!.GetValue<int>()));
        Assert.Equal(5, r["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(12, r["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Chat_renders_the_template_and_answers_as_assistant()
    {
        var r = await _s.PostJsonAsync("/v1/chat/completions",
            """{"messages": [{"role": "system", "content": "aa"}, {"role": "user", "content": [{"type": "text", "text": "bb"}]}], "max_tokens": 4, "seed": 3}""");
        Assert.Equal("chat.completion", r["object"]!.GetValue<string>());
        var message = r["choices"]![0]!["message"]!;
        Assert.Equal("assistant", message["role"]!.GetValue<string>());
        Assert.Equal(8, message["content"]!.GetValue<string>().Length);
        // The prompt is the template's text "aa" + "bb" (parts joined with a newline would not tokenize: one part) + "hh".
        Assert.Equal(3, r["usage"]!["prompt_tokens"]!.GetValue<int>());
        var direct = _s.Engine.Generate([[0, 9, 63]], new Core.Sampling.SamplingParams { Seed = 3, MaxTokens = 4 })[0];
        Assert.Equal(direct.Outputs[0].Text, message["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Chat_without_max_tokens_fills_the_context()
    {
        var r = await _s.PostJsonAsync("/v1/chat/completions", """{"messages": [{"role": "user", "content": "aa"}], "seed": 1}""");
        Assert.Equal(TestServer.MaxModelLen - 2, r["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal("length", r["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }
}
