namespace Folio.Core.Scheduling;

/// <summary>
/// Counters of a scheduler since it was created, and its queues now. <see cref="GroupRecomputePreemptions"/>
/// counts the recompute preemptions (included in <see cref="RecomputePreemptions"/>) of requests running several
/// sequences (n &gt; 1 after the fork, or beam search). <see cref="ForcedTokens"/> counts tokens appended without
/// sampling because a structured output forced them (fast-forward).
/// </summary>
public readonly record struct SchedulerStats(
    long Steps, long Preemptions, long RecomputePreemptions, long SwapPreemptions, long Rejected,
    int NumRunning, int NumWaiting, int NumSwapped, int RunningSequences, long GroupRecomputePreemptions = 0, long ForcedTokens = 0);
