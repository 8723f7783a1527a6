using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;
using Folio.Interop.Runtime;

namespace Folio.Interop.Hosts;

/// <summary>
/// The object behind a folio_scheduler handle (level 2): the managed <see cref="Scheduler"/> driven by a host
/// that runs its own model. One plan is outstanding at a time: schedule → the host executes → update. Every call
/// holds the KV manager's gate, so the manager and its scheduler are used by one thread at a time.
/// </summary>
public sealed class SchedulerHost
{
    private readonly Dictionary<long, Request> _unfinished = [];
    private readonly List<long> _pendingCancels = [];
    private readonly List<Request> _aborted = [];
    private readonly StepOutputs _outputs = new();
    private long _nextRequestId;
    private long _arrival;
    private long _promptTokens;
    private long _generatedTokens;
    private StepPlan? _livePlan;
    private StepPlanSnapshot? _outstanding;

    public SchedulerHost(KvManagerHost kv, SchedulerOptions options, int vocabSize)
    {
        Kv = kv;
        VocabSize = vocabSize;
        Scheduler = new Scheduler(options, kv.Kv);
    }

    public KvManagerHost Kv { get; }
    public Scheduler Scheduler { get; }
    public int VocabSize { get; }

    /// <summary>Queues a request; false with the reason when it can never fit the KV cache.</summary>
    public bool TryAdd(int[] promptIds, SamplingParams samplingParams, RequestOptions options, out long requestId, out string rejectReason)
    {
        lock (Kv.Gate)
        {
            var request = new Request(_nextRequestId++, promptIds, samplingParams, _arrival++, options.Priority, options.CacheKey);
            requestId = request.Id;
            rejectReason = "";
            if (!Scheduler.Add(request))
            {
                rejectReason = request.RejectReason ?? "rejected";
                return false;
            }
            _unfinished.Add(request.Id, request);
            _promptTokens += promptIds.Length;
            return true;
        }
    }

    /// <summary>Cancels now, or after the outstanding plan's update. False when unknown or finished.</summary>
    public bool Cancel(long requestId)
    {
        lock (Kv.Gate)
        {
            if (!_unfinished.TryGetValue(requestId, out Request? request) || _pendingCancels.Contains(requestId)) return false;
            if (_outstanding is not null)
            {
                _pendingCancels.Add(requestId);
                return true;
            }
            AbortNow(request);
            return true;
        }
    }

    public bool HasUnfinished
    {
        get { lock (Kv.Gate) return _unfinished.Count > 0 || _aborted.Count > 0; }
    }

    /// <summary>The next plan, or null when the previous one was not updated yet.</summary>
    public StepPlanSnapshot? Schedule()
    {
        lock (Kv.Gate)
        {
            if (_outstanding is not null) return null;
            _livePlan = Scheduler.Schedule();
            _outstanding = new StepPlanSnapshot(_livePlan, Kv.Kv.BlockSizeTokens, this);
            return _outstanding;
        }
    }

    public bool IsOutstanding(StepPlanSnapshot plan)
    {
        lock (Kv.Gate) return ReferenceEquals(plan, _outstanding);
    }

    /// <summary>folio_step_plan_destroy of the outstanding plan: keep it until its update (which releases it).</summary>
    public bool TryDeferRelease(StepPlanSnapshot plan)
    {
        lock (Kv.Gate)
        {
            if (!ReferenceEquals(plan, _outstanding)) return false;
            plan.ReleaseRequested = true;
            return true;
        }
    }

    /// <summary>Applies the host's samples to the outstanding plan (checked by the caller: ids, count); null when
    /// <paramref name="plan"/> is not the outstanding plan (another thread updated it first).</summary>
    public OutputList? Update(StepPlanSnapshot plan, ReadOnlySpan<int> sampledIds, ReadOnlySpan<float> logprobs)
    {
        lock (Kv.Gate)
        {
            if (!ReferenceEquals(plan, _outstanding) || _livePlan is null) return null;
            ReadOnlySpan<ScheduledSequence> entries = _livePlan.Sequences;
            var builder = new OutputListBuilder();
            if (entries.Length > 0)
            {
                _outputs.Clear();
                int next = 0;
                foreach (ScheduledSequence e in entries)
                {
                    _outputs.BeginEntry();
                    for (int i = 0; i < e.NumSamples; i++, next++)
                    {
                        _outputs.AddSample(sampledIds[next], logprobs.IsEmpty ? 0f : logprobs[next]);
                    }
                }
                Scheduler.Postprocess(_outputs);
                foreach (SequenceUpdate u in Scheduler.Updates) AddOutput(builder, u);
            }
            _outstanding = null;
            _livePlan = null;
            foreach (long id in _pendingCancels)
            {
                if (_unfinished.TryGetValue(id, out Request? request)) AbortNow(request);
            }
            _pendingCancels.Clear();
            foreach (Request request in _aborted)
            {
                builder.Add((ulong)request.Id, -1, FolioFinishReason.Abort, true, [], 0, 0, [], [], "", (ulong)request.PromptLength);
            }
            _aborted.Clear();
            return builder.Build();
        }
    }

    public FolioStats GetStats()
    {
        lock (Kv.Gate)
        {
            FolioStats stats = KvManagerHost.ToStats(Kv.Kv.GetStats(), Kv.Kv.BlockSizeTokens);
            SchedulerStats s = Scheduler.GetStats();
            stats.NumPreemptions = s.Preemptions;
            stats.NumRunning = s.NumRunning;
            stats.NumWaiting = s.NumWaiting;
            stats.NumSwapped = s.NumSwapped;
            stats.NumSteps = s.Steps;
            stats.NumPromptTokens = _promptTokens;
            stats.NumGeneratedTokens = _generatedTokens;
            return stats;
        }
    }

    private void AbortNow(Request request)
    {
        Scheduler.Abort(request);
        _unfinished.Remove(request.Id);
        _aborted.Add(request);
    }

    private void AddOutput(OutputListBuilder builder, SequenceUpdate u)
    {
        Request request = u.Request;
        if (u.Sequence is { } seq)
        {
            ReadOnlySpan<int> all = seq.GeneratedTokens;
            FinishReason reason = seq.IsFinished ? seq.FinishReason : FinishReason.None;
            builder.Add((ulong)request.Id, seq.Index, EngineHost.Map(reason), false, all[(all.Length - u.NumNewTokens)..],
                seq.CumulativeLogProb, 0, [], [], "", (ulong)request.PromptLength);
            _generatedTokens += u.NumNewTokens;
            return;
        }
        FinishReason final = request.FinishReason != FinishReason.None ? request.FinishReason
            : request.Sequences.Count > 0 ? request.Sequences[0].FinishReason : FinishReason.None;
        builder.Add((ulong)request.Id, -1, EngineHost.Map(final), true, [], 0, 0, [], [], "", (ulong)request.PromptLength);
        _unfinished.Remove(request.Id);
    }
}
