namespace Folio.Server;

/// <summary>A request the server refuses: its HTTP status and OpenAI error type, thrown while parsing and
/// turned into the error body by <see cref="ApiErrors"/>. Only for the client's mistakes, never for bugs.</summary>
public sealed class ApiException(int status, string message, string? param = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
}
