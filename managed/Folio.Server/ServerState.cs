namespace Folio.Server;

/// <summary>What every endpoint reads: the served model and the server's options (immutable after start).</summary>
internal sealed record ServerState(ServedModel Model, ServerOptions Options);
