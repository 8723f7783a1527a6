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
        Id = id;
        _prompt = promptTokenIds.ToArray();
        Params = samplingParams;
        Arrival = arrival;
        Priority = priority;
        CacheKey = cacheKey;
        Stops = new StopRules(samplingParams);
        Width = samplingParams.Width;
        N = samplingParams.N;
        BeamWidth = samplingParams.BeamWidth;
        Seed = samplingParams.Seed;
        NumLogprobs = samplingParams.Logprobs ?? -1;
        HasStopStrings = samplingParams.Stop.Count > 0;
    }

    // Copies of the parameters read every step (see StopRules): the request object is in cache, the parameters
    // object usually is not.
    internal readonly StopRules Stops;
    internal readonly int Width;
    internal readonly int N;
    internal readonly int BeamWidth;
    internal readonly long? Seed;
    internal readonly int NumLogprobs;
    internal readonly bool HasStopStrings;
    internal bool UseBeamSearch => BeamWidth > 0;

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
    public IReadOnlyList<Sequence> Sequences => SequenceList;

    /// <summary>Finished beams, best first (beam search only).</summary>
    public IReadOnlyList<Sequence> FinishedBeams => BeamList;

    /// <summary>Times this request was preempted (recompute or swap).</summary>
    public int NumPreemptions { get; internal set; }

    public bool IsFinished => Status == SequenceStatus.Finished;

    internal List<Sequence> SequenceList { get; } = new(1);

    /// <summary>The first sequence created (hot path: most requests have just this one).</summary>
    internal Sequence? FirstSequence { get; set; }
    internal List<Sequence> BeamList { get; } = [];

    /// <summary>Sequences not yet finished (they hold the request's blocks).</summary>
    internal int NumLive { get; set; }

    /// <summary>True once the prompt was sampled (n children or beams exist): a recompute then restores each sequence separately.</summary>
    internal bool Forked { get; set; }

    /// <summary>
    /// True from a group's recompute preemption until every live sequence has its history recomputed and the
    /// group samples again (the sequences prefill separately, then step together).
    /// </summary>
    internal bool Recomputing { get; set; }


    /// <summary>Sort key under the priority policy (FCFS uses arrival only).</summary>
    internal bool ServedBefore(Request other, SchedulingPolicy policy)
    {
        if (policy == SchedulingPolicy.Priority && Priority != other.Priority)
            return Priority < other.Priority;
        return Arrival < other.Arrival;
    }

    public override string ToString() => $"request {Id} ({Status}, {PromptLength} prompt tokens)";
}
