namespace Folio.Core.Simulation;

/// <summary>
/// Time-averaged memory use of one policy over the saturated steps of a simulation: each percentage is the
/// sum over steps of that category's slots divided by (steps × KV capacity), so the four sum to 100.
/// </summary>
public sealed record PolicyResult(
    PolicySpec Policy,
    long SaturatedSteps,
    double TokenStatePct,
    double ReservedPct,
    double InternalFragPct,
    double ExternalFragPct,
    double MeanBatch,
    int CompletedRequests,
    int Preemptions);
