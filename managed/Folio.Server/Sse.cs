using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Folio.Server;

/// <summary>Server-sent events as OpenAI streams them: "data: {json}\n\n" per chunk, "data: [DONE]\n\n" last.</summary>
internal static class Sse
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Separator = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static void Start(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public static async Task WriteAsync<T>(HttpResponse response, T chunk, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var body = response.BodyWriter;
        body.Write(Prefix.AsSpan());
        using (var writer = new Utf8JsonWriter(body, Json.WriterOptions))
            JsonSerializer.Serialize(writer, chunk, type);
        body.Write(Separator.AsSpan());
        // Each chunk leaves now: a streaming client sees tokens as they are generated.
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task DoneAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.BodyWriter.Write(Done.AsSpan());
        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
