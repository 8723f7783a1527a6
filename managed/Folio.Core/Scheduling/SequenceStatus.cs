namespace Folio.Core.Scheduling;

/// <summary>Where a sequence (or a request, its group) is in its life.</summary>
public enum SequenceStatus
{
    /// <summary>Queued for (re)computation of its tokens; holds no KV blocks.</summary>
    Waiting,
    /// <summary>Holds GPU blocks and takes part in steps.</summary>
    Running,
    /// <summary>Preempted to the CPU swap pool; holds CPU blocks only.</summary>
    Swapped,
    /// <summary>Done (see the finish reason); holds nothing.</summary>
    Finished,
}
