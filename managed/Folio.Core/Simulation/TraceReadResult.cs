namespace Folio.Core.Simulation;

/// <summary>The outcome of reading a trace: the requests, or one line naming the problem (and its line).</summary>
public readonly record struct TraceReadResult(SimRequest[]? Requests, string? Error)
{
    public bool Ok => Error is null;
    public static TraceReadResult Success(SimRequest[] requests) => new(requests, null);
    public static TraceReadResult Failure(string error) => new(null, error);
}
