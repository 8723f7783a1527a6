using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// A request: a prompt and its sampling parameters, and the group of sequences generating for it (one, or n for
/// parallel sampling, or the live beams of a beam search). Created by the engine, or by a host that drives a
/// <see cref="Scheduler"/> on its own (it picks unique ids and increasing arrivals, and validates the params);
/// mutated only by the scheduler.
/// </summary>
public sealed class Request
{
    private readonly int[] _prompt;

    public Request(long id, ReadOnlySpan<int> promptTokenIds, SamplingParams samplingParams, long arrival, int priority, CacheKey cacheKey)
    {
        // First, so that the group sits next to the request in memory (the scheduler reads both every step).
        Id = id;
        Group = new SequenceGroup(this, samplingParams);
        _prompt = promptTokenIds.ToArray();
        Params = samplingParams;
        Arrival = arrival;
        Priority = priority;
        CacheKey = cacheKey;
        Seed = samplingParams.Seed;
    }

    // The parameters the step reads are copied into the group (SequenceGroup); these forward to them.
    internal ref readonly StopRules Stops => ref Group.Stops;
    internal int Width => Group.Width;
    internal int N => Group.N;
    internal int BeamWidth => Group.BeamWidth;
    internal readonly long? Seed;
    internal int NumLogprobs => Group.NumLogprobs;
    internal bool HasStopStrings => Group.HasStopStrings;
    internal bool UseBeamSearch => Group.UseBeamSearch;

    /// <summary>The token constraints compiled at admission (null when the request sets none).</summary>
    internal RequestConstraints? Constraints { get; set; }

    public long Id { get; }
    public ReadOnlySpan<int> PromptTokenIds => _prompt;
    public int PromptLength => _prompt.Length;
    public SamplingParams Params { get; }

    /// <summary>Arrival order (a counter of the engine: earlier requests have smaller values).</summary>
    public long Arrival { get; }

    /// <summary>Under the priority policy, lower values are served first.</summary>
    public int Priority { get; }

    public CacheKey CacheKey { get; }

    public SequenceStatus Status { get; internal set; }

    /// <summary>Set for aborted and rejected requests (the sequences carry their own reasons otherwise).</summary>
    public FinishReason FinishReason { get; internal set; }

    /// <summary>Why the request was rejected (null unless <see cref="FinishReason"/> is Rejected).</summary>
    public string? RejectReason { get; internal set; }

    /// <summary>Live sequences first, then finished ones, in creation order. For beam search: the live beams.</summary>
    public IReadOnlyList<Sequence> Sequences => Group.Sequences;

    /// <summary>Finished beams, best first (beam search only).</summary>
    public IReadOnlyList<Sequence> FinishedBeams => Group.FinishedBeams;

    /// <summary>Times this request was preempted (recompute or swap).</summary>
    public int NumPreemptions { get; internal set; }

    public bool IsFinished => Status == SequenceStatus.Finished;

    /// <summary>The sequences generating for this request and their books.</summary>
    internal SequenceGroup Group { get; }

    /// <summary>Ends a request that could never run, and its only sequence, with reason Rejected and why.</summary>
    internal void Reject(string reason)
    {
        var seq = Group.First!;
        seq.Status = SequenceStatus.Finished;
        seq.FinishReason = FinishReason.Rejected;
        Status = SequenceStatus.Finished;
        FinishReason = FinishReason.Rejected;
        RejectReason = reason;
    }

    /// <summary>Sort key under the priority policy (FCFS uses arrival only).</summary>
    internal bool ServedBefore(Request other, SchedulingPolicy policy)
    {
        if (policy == SchedulingPolicy.Priority && Priority != other.Priority)
            return Priority < other.Priority;
        return Arrival < other.Arrival;
    }

    public override string ToString() => $"request {Id} ({Status}, {PromptLength} prompt tokens)";
}
