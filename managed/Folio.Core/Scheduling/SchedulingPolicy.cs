namespace Folio.Core.Scheduling;

/// <summary>Order of service, and so which request is preempted first.</summary>
public enum SchedulingPolicy
{
    /// <summary>First come, first served; the newest running request is the victim.</summary>
    Fcfs,
    /// <summary>Lower <see cref="Request.Priority"/> values first, then arrival; the lowest-priority (highest value) request is the victim.</summary>
    Priority,
}
