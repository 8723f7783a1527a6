namespace Folio.Cli;

/// <summary>One policy's time-averaged memory breakdown; the four percentages sum to 100.</summary>
public sealed record PolicyReport(
    string Name,
    int? BlockSize,
    double TokenStatePct,
    double ReservedPct,
    double InternalFragPct,
    double ExternalFragPct,
    double MeanBatch,
    long SaturatedSteps,
    int Preemptions);
