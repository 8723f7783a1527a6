namespace Folio.Cli;

/// <summary>The one JSON object <c>folio simulate --json</c> prints (snake_case through <see cref="SimulateJsonContext"/>).</summary>
public sealed record SimulateReport(
    string Workload,
    string? TraceFile,
    int Requests,
    int SharingRequests,
    int Seed,
    double MeanInputTokens,
    double MeanOutputTokens,
    int KvTokens,
    IReadOnlyList<PolicyReport> Policies,
    IReadOnlyList<SharingReport> Sharing);
