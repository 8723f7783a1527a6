using System.Text.Json.Nodes;

namespace Folio.Server.Tests;

/// <summary>Reads a server-sent-event body strictly: every event is "data: ...\n\n", the last is "data: [DONE]".</summary>
internal static class SseReader
{
    public static async Task<List<JsonNode>> ReadAllAsync(HttpResponseMessage response)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", body);
        var events = body.Split("\n\n");
        Assert.Equal("", events[^1]);
        Assert.Equal("data: [DONE]", events[^2]);
        var chunks = new List<JsonNode>();
        foreach (var e in events[..^2])
        {
            Assert.StartsWith("data: ", e);
            Assert.DoesNotContain('\n', e);
            chunks.Add(JsonNode.Parse(e["data: ".Length..])!);
        }
        return chunks;
    }
}
