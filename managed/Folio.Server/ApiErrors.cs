using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Folio.Server;

/// <summary>
/// The exception firewall of every endpoint: the client's mistakes become OpenAI's error body
/// <c>{"error": {"message", "type", "param", "code"}}</c> with their status; a client that went away ends quietly
/// (its engine requests were aborted by <see cref="Submission"/>); anything else is a 500 and is logged.
/// </summary>
internal static class ApiErrors
{
    public static async Task HandleAsync(HttpContext http, Func<Task> endpoint, ILogger logger)
    {
        try
        {
            await endpoint().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client disconnected: nothing to answer.
        }
        catch (ApiException e)
        {
            await WriteAsync(http, e.Status, e.Message, e.Param).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's: 413 for a body over MaxRequestBodySize, 400 for a malformed request.
            string message = e.StatusCode == 413 ? "the request body is larger than the server's limit" : e.Message;
            await WriteAsync(http, e.StatusCode, message, null).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            // The engine's own validation of the parameters (names the field).
            await WriteAsync(http, 400, e.Message, null).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogError(e, "request {Path} failed", http.Request.Path);
            await WriteAsync(http, 500, $"internal error: {e.GetType().Name}: {e.Message}", null).ConfigureAwait(false);
        }
    }

    public static Task WriteAsync(HttpContext http, int status, string message, string? param)
    {
        if (http.Response.HasStarted)
            return Task.CompletedTask;   // mid-stream: the status went out already; the stream just ends
        var (type, code) = status switch
        {
            401 => ("authentication_error", "invalid_api_key"),
            404 => ("not_found_error", "model_not_found"),
            413 => ("invalid_request_error", "request_too_large"),
            429 => ("rate_limit_error", "rate_limit_exceeded"),
            >= 500 => ("server_error", (string?)null),
            _ => ("invalid_request_error", (string?)null),
        };
        return Json.WriteAsync(http, status, new ErrorBody(new ErrorDetail(message, type, param, code)), ApiJson.Default.ErrorBody);
    }
}
