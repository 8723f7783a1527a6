namespace Folio.Core.Scheduling;

/// <summary>Counters of a scheduler since it was created, and its queues now.</summary>
public readonly record struct SchedulerStats(
    long Steps, long Preemptions, long RecomputePreemptions, long SwapPreemptions, long Rejected,
    int NumRunning, int NumWaiting, int NumSwapped, int RunningSequences);
