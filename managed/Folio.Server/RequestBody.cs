using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Folio.Server;

/// <summary>Reads a JSON request body: over the size limit is 413 (Kestrel's MaxRequestBodySize, also for chunked
/// bodies), malformed JSON a 400 with the parser's line and byte position.</summary>
internal static class RequestBody
{
    public static async Task<(JsonDocument Document, RequestFields Fields)> ReadAsync(HttpContext http)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new ApiException(400, $"the request body is not valid JSON: {e.Message}");
        }
        try
        {
            return (document, RequestFields.Parse(document));
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }
}
