namespace Folio.Server;

/// <summary>What every endpoint reads: the served model, the server's options and its metrics.</summary>
internal sealed record ServerState(ServedModel Model, ServerOptions Options, ServerMetrics Metrics);
