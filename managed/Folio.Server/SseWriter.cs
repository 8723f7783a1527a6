using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Folio.Server;

/// <summary>
/// Server-sent events as OpenAI streams them: "data: {json}\n\n" per chunk, "data: [DONE]\n\n" last. One per
/// streamed response. <see cref="Write"/> only fills the response's pipe; the endpoint flushes when its request
/// has no further output waiting (<see cref="Submission.HasPendingOutput"/>), so a handler that fell behind the
/// engine by several steps sends them in one write, and one that keeps up sends each token as it comes.
/// </summary>
internal sealed class SseWriter : IDisposable
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Separator = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly HttpResponse _response;
    // One JSON writer for the whole stream (reset per chunk): no writer allocated per token.
    private readonly Utf8JsonWriter _json;

    public SseWriter(HttpResponse response)
    {
        _response = response;
        _json = new Utf8JsonWriter(response.BodyWriter, Json.WriterOptions);
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>Appends one event to the response (sent at the next <see cref="FlushAsync"/>).</summary>
    public void Write<T>(T chunk, JsonTypeInfo<T> type)
    {
        var body = _response.BodyWriter;
        body.Write(Prefix);
        _json.Reset(body);
        JsonSerializer.Serialize(_json, chunk, type);
        _json.Flush();
        body.Write(Separator);
    }

    /// <summary>Sends what was written.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken) =>
        await _response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Writes the last event and sends everything.</summary>
    public Task DoneAsync(CancellationToken cancellationToken)
    {
        _response.BodyWriter.Write(Done);
        return FlushAsync(cancellationToken);
    }

    public void Dispose() => _json.Dispose();
}
