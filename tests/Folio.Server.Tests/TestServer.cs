using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Folio.Core.Engine;

namespace Folio.Server.Tests;

/// <summary>
/// A real <see cref="FolioServer"/> on a free loopback port over the fake model (FakeExecutor, vocabulary of 64
/// two-letter pieces), with an HttpClient pointed at it. The chat template renders each message's content and
/// "hh" as the generation prompt, so conversations of a..h pairs tokenize.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    public const string Template = FakeServedModel.ChatTemplateText;
    public const int Blocks = 1024, BlockSize = 16, MaxModelLen = 4096;

    private TestServer(FolioServer server, LlmEngine engine, string? apiKey)
    {
        Server = server;
        Engine = engine;
        // No drain: disposing an unfinished response must close the connection, as a client that leaves does (by
        // default the handler first reads up to 1 MB or 2 s of the rest, to reuse the connection, and a fast stream
        // then completes before the server ever sees the client leave).
        Client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 })
        {
            BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60),
        };
        if (apiKey is not null) Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public FolioServer Server { get; }
    public LlmEngine Engine { get; }
    public HttpClient Client { get; }

    public static async Task<TestServer> StartAsync(bool chatTemplate = true, string? apiKey = null, long maxBodyBytes = 8 << 20,
        int maxWaiting = 1024, int maxSeqs = 64, TimeSpan? stepDelay = null)
    {
        var model = FakeServedModel.Create(numGpuBlocks: Blocks, blockSizeTokens: BlockSize, maxNumSeqs: maxSeqs, maxModelLen: MaxModelLen,
            chatTemplate: chatTemplate, wrap: stepDelay is { } d ? fake => new StepDelayExecutor(fake, d) : null);
        var engine = model.Engine;
        var server = FolioServer.Create(model, new ServerOptions
        {
            Port = 0, ApiKey = apiKey, MaxBodyBytes = maxBodyBytes, MaxWaitingRequests = maxWaiting,
        });
        await server.StartAsync();
        return new TestServer(server, engine, apiKey);
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json, HttpCompletionOption option = HttpCompletionOption.ResponseContentRead,
        CancellationToken cancellationToken = default) =>
        Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") },
            option, cancellationToken);

    /// <summary>POSTs and parses the JSON answer, asserting the status.</summary>
    public async Task<JsonNode> PostJsonAsync(string path, string json, int status = 200)
    {
        using var response = await PostAsync(path, json);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{path}: expected {status}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Asserts an OpenAI error body: {"error": {"message", "type", "param", "code"}}.</summary>
    public async Task<JsonNode> ExpectErrorAsync(string path, string json, int status, string messagePart)
    {
        var body = await PostJsonAsync(path, json, status);
        var error = body["error"]!;
        Assert.Contains(messagePart, error["message"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(error["type"]!.GetValue<string>()));
        return error;
    }

    /// <summary>Waits (up to 10 s) until the engine has nothing running or waiting and every KV block is free.</summary>
    public async Task WaitIdleAsync()
    {
        for (int i = 0; i < 1000; i++)
        {
            var s = Engine.GetSchedulerStats();
            if (s.NumRunning == 0 && s.NumWaiting == 0 && Engine.GetKvStats().UsedBlocks == 0) return;
            await Task.Delay(10);
        }
        var last = Engine.GetSchedulerStats();
        Assert.Fail($"engine not idle: {last.NumRunning} running, {last.NumWaiting} waiting, {Engine.GetKvStats().UsedBlocks} blocks used");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
