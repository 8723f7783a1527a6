namespace Folio.Server;

/// <summary>How <c>folio serve</c> listens and what it accepts.</summary>
public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests); <see cref="FolioServer.Port"/> tells which.</summary>
    public int Port { get; init; } = 8000;

    /// <summary>When set, /v1/* requests need "Authorization: Bearer KEY" (401 otherwise).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Bodies larger than this get 413.</summary>
    public long MaxBodyBytes { get; init; } = 8L << 20;

    /// <summary>With this many requests waiting in the engine's queue, new ones get 429.</summary>
    public int MaxWaitingRequests { get; init; } = 1024;

    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentException($"port {Port} is not in 0..65535");
        if (MaxBodyBytes < 1024) throw new ArgumentException($"max body bytes {MaxBodyBytes} is below 1024");
        if (MaxWaitingRequests < 1) throw new ArgumentException($"max waiting requests {MaxWaitingRequests} is below 1");
        if (ApiKey is { Length: 0 }) throw new ArgumentException("the API key is empty");
    }
}
