using System.Runtime.CompilerServices;
using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// Iteration-level (continuous) batching over the paged KV cache. <see cref="Schedule"/> decides who computes
/// which tokens this step and asks the <see cref="KvCacheManager"/> for their blocks; <see cref="Postprocess"/>
/// applies the sampled tokens and the token-level stop rules (EOS, stop token ids, min/max tokens). Text (and stop
/// strings) belong to the engine's output processor, which ends a sequence through <see cref="StopByString"/>. The
/// scheduler decides; the manager only manages blocks.
/// Single-threaded: the engine serialises every call.
/// </summary>
/// <remarks>
/// Policy per step, within <see cref="SchedulerOptions.MaxNumBatchedTokens"/>: running requests first, in
/// service order (decodes, and the next chunk of a prompt being prefilled); a running request that needs a
/// block the pool lacks preempts the newest (FCFS) or lowest-priority running request not yet scheduled this
/// step, or itself when none is left. If nothing was preempted: swapped requests come back (oldest first), then,
/// only when none is swapped, waiting requests are admitted in order while their blocks fit after prefix-cache
/// hits, the last one's prompt chunked to the remaining budget. Requests reserve their width (n or beam width)
/// of <see cref="SchedulerOptions.MaxNumSeqs"/>.
/// </remarks>
public sealed partial class Scheduler
{
    private readonly SchedulerOptions _options;
    private readonly KvCacheManager _kv;
    private readonly RunningGroups _running = new();
    private readonly List<SequenceGroup> _finishedGroups = [];
    private readonly RequestQueue _waiting;
    private readonly RequestQueue _swapped;
    private readonly StepPlan _plan = new();
    private readonly List<SequenceUpdate> _updates = [];
    private readonly UpdateList _updateList;
    private readonly SampleApplier _samples;
    private readonly SequenceIds _sequenceIds = new();
    private readonly GroupRecompute _groupRecompute;
    private BlockTable[] _groupTables = new BlockTable[8];
    private long _stepIndex;
    private int _reservedSeqs;
    private long _preemptions, _recomputes, _groupRecomputes, _swaps, _rejected;

    public Scheduler(SchedulerOptions options, KvCacheManager kv)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kv);
        options.Validate();
        _options = options;
        _kv = kv;
        _waiting = new RequestQueue(options.Policy);
        _swapped = new RequestQueue(options.Policy);
        _samples = new SampleApplier(kv, options.EosTokenId, _sequenceIds);
        _updateList = new UpdateList(_updates);
        _groupRecompute = new GroupRecompute(kv, _plan, options.EnableChunkedPrefill);
    }

    /// <summary>Generated tokens a new sequence has room for before its buffers grow (larger max_tokens grow
    /// on demand: memory is not reserved for outputs that usually end early).</summary>
    private const int PreallocatedOutputTokens = 4096;

    public SchedulerOptions Options => _options;

    /// <summary>The one plan this scheduler fills and reuses (what <see cref="Schedule"/> returns).</summary>
    internal StepPlan Plan => _plan;
    public KvCacheManager KvCache => _kv;

    public bool HasUnfinished => _running.Count > 0 || _waiting.Count > 0 || _swapped.Count > 0;

    /// <summary>The incremental outputs of the last Schedule + <see cref="Postprocess(Sampling.StepOutputs)"/> (aborts
    /// are not included); reused. The engine takes them as they happen instead (an <see cref="ISequenceUpdateSink"/>),
    /// and then this stays empty.</summary>
    public IReadOnlyList<SequenceUpdate> Updates => _updates;

    public SchedulerStats GetStats() => new(
        _stepIndex, _preemptions, _recomputes, _swaps, _rejected,
        _running.Count, _waiting.Count, _swapped.Count, _reservedSeqs, _groupRecomputes, _samples.ForcedTokens);

    /// <summary>Preemptions so far (<see cref="GetStats"/>'s, without building the whole record every step).</summary>
    internal long NumPreemptions => _preemptions;

    /// <summary>Verifies the scheduler's books against the KV manager (<see cref="SchedulerInvariants"/>); throws
    /// <see cref="InvalidOperationException"/> naming the first violation.</summary>
    public void CheckConsistency() => SchedulerInvariants.Check(_running, _swapped, _waiting, _reservedSeqs, _kv);

    /// <summary>Blocks a request can need at most (<see cref="AdmissionRules.MaxBlocksNeeded"/>).</summary>
    public int MaxBlocksNeeded(Request request) => AdmissionRules.MaxBlocksNeeded(request, _kv.BlockSizeTokens);

    /// <summary>
    /// Queues a new request, or rejects it (returns false, the request finished with reason Rejected and a
    /// <see cref="Request.RejectReason"/>) when it could never run: a prompt longer than the GPU pool, or a worst
    /// case (prompt + max_tokens for each of its sequences) that no amount of preemption could make room for —
    /// admitting it would only thrash.
    /// </summary>
    public bool Add(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Group.Sequences.Count != 0)
            throw new InvalidOperationException($"{request} was already added.");
        var p = request.Params;
        string? reason = AdmissionRules.RejectReason(request, _options, _kv);

        // Room for the whole generation (up to a cap): the token buffer and the block table never grow inside a step.
        int capacity = request.PromptLength + Math.Min(p.MaxTokens, PreallocatedOutputTokens);
        // The table before the sequence: in this order the request, its group, its table and its sequence (what every
        // step reads) lie within ~1 KB, the sequence's token buffer (KBs) after them, not between the sequence and
        // its table (fewer pages per running request; its effect here was at the noise floor, bench/NOTES-scheduler.md).
        var table = reason is null ? _kv.CreateTable(request.CacheKey, capacity) : null;
        var seq = new Sequence(_sequenceIds.Next(), 0, request, request.PromptTokenIds, capacity);
        var group = request.Group;
        group.Sequences.Add(seq);
        group.First = seq;
        if (reason is not null)
        {
            request.Reject(reason);
            _rejected++;
            return false;
        }
        seq.ReservedTable = table;
        seq.Probe = new PrefixProbe(request.PromptLength / _kv.BlockSizeTokens);
        group.NumLive = 1;
        request.Status = SequenceStatus.Waiting;
        seq.Status = SequenceStatus.Waiting;
        _waiting.InsertFromBack(request);
        return true;
    }

    /// <summary>Finishes a request now with reason Abort, freeing its blocks wherever they are. False if it had finished.</summary>
    public bool Abort(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        switch (request.Status)
        {
            case SequenceStatus.Waiting:
                _waiting.Remove(request);
                break;
            case SequenceStatus.Swapped:
                _swapped.Remove(request);
                break;
            case SequenceStatus.Running:
                _running.Remove(request.Group);
                _reservedSeqs -= request.Width;
                break;
            default:
                return false;
        }
        foreach (var seq in request.Group.Sequences)
        {
            if (!seq.IsFinished)
                request.Group.Finish(seq, FinishReason.Abort, null, _kv);
        }
        request.Status = SequenceStatus.Finished;
        request.FinishReason = FinishReason.Abort;
        return true;
    }

    /// <summary>
    /// Ends a sequence of the last step whose text matched a stop string (found by the output processor after
    /// <see cref="Postprocess"/>): it finishes with reason Stop and <paramref name="stopString"/> as its stop reason,
    /// and its blocks are freed now. A sequence the token rules already ended (max_tokens on the same token) is only
    /// relabelled, as vLLM does. Returns true when this ended the request (its last live sequence).
    /// </summary>
    public bool StopByString(Sequence seq, string stopString)
    {
        ArgumentNullException.ThrowIfNull(seq);
        var g = seq.Request;
        if (seq.IsFinished)
        {
            seq.FinishReason = FinishReason.Stop;
            seq.StopReason = stopString;
            return false;
        }
        if (g.Status != SequenceStatus.Running)
            throw new InvalidOperationException($"{seq} is not running; only a sequence of the last step can match a stop string.");
        g.Group.Finish(seq, FinishReason.Stop, stopString, _kv);
        if (g.Group.NumLive > 0)
            return false;
        g.Status = SequenceStatus.Finished;
        _reservedSeqs -= g.Width;
        _running.Remove(g.Group);
        return true;
    }

    /// <summary>Plans the next step. The plan is reused: valid until the next call.</summary>
    public StepPlan Schedule()
    {
        var plan = _plan;
        plan.Reset(++_stepIndex);
        _updates.Clear();
        int budget = ScheduleRunning(_options.MaxNumBatchedTokens);
        // None admitted in a step that had to preempt; the swapped go first (admitting newcomers would starve them).
        if (plan.NumPreempted == 0)
        {
            budget = ScheduleSwappedIn(budget);
            if (_swapped.Count == 0)
                ScheduleWaiting(budget);
        }
        plan.Seal();
        return plan;
    }

    /// <summary>Grows a single sequence's table by <paramref name="chunk"/> tokens (checked by the caller) and plans them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Commit(Sequence seq, int chunk)
    {
        _kv.Append(seq.Table!, seq.Tokens.Slice(seq.NumComputedTokens, chunk), _plan.Copies);
        _plan.AddChunk(seq, chunk);
        if (chunk > 1)
            _kv.CacheFullBlocks(seq.Table!);   // a prompt chunk: its blocks are hits for requests admitted after it this step
    }

    /// <summary>One decode token for every live sequence of a group (checked by <see cref="GroupCanDecode"/>); returns tokens used.</summary>
    private int CommitGroupDecode(SequenceGroup g)
    {
        int used = 0;
        foreach (var seq in g.Sequences)
        {
            if (seq.IsFinished)
                continue;
            if (seq.NumTokens - seq.NumComputedTokens != 1)
                throw new InvalidOperationException($"{seq} of a multi-sequence group is not in decode.");
            if (!_kv.CanAppend(seq.Table!, 1))
                throw new InvalidOperationException($"GroupCanDecode admitted {g.Request} but {seq} cannot append.");
            Commit(seq, 1);
            used++;
        }
        return used;
    }

    /// <summary>Whether every live sequence of a group can append one token (the manager's upper bound).</summary>
    private bool GroupCanDecode(SequenceGroup g) => _kv.CanAppendEach(g.LiveTables(ref _groupTables), 1);

    private void InsertRunning(Request g)
    {
        _reservedSeqs += g.Width;
        // Service order; a newcomer usually goes last, so search from the back.
        int at = _running.Count;
        while (at > 0 && !_running[at - 1].Request.ServedBefore(g, _options.Policy))
            at--;
        _running.Insert(at, g.Group);
        // Room for every running group to finish in one step, reserved as the running set grows (not in a steady step).
        if (_finishedGroups.Capacity < _running.Count)
            _finishedGroups.Capacity = Math.Max(_running.Count, 2 * _finishedGroups.Capacity);
    }
}
