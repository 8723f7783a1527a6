using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;
using Folio.Interop.Runtime;

namespace Folio.Interop.Hosts;

/// <summary>
/// The object behind a folio_scheduler handle (level 2): Core's <see cref="EngineCore"/> — the engine without an
/// executor — driven by a host that runs its own model. One plan is outstanding at a time: schedule → the host
/// executes → update. Every call holds the KV manager's gate, so the manager and its scheduler are used by one
/// thread at a time. What is here is translation: the plan to its snapshot, the host's samples to
/// <see cref="StepOutputs"/>, Core's outputs to folio_request_output records.
/// </summary>
public sealed class SchedulerHost
{
    private readonly StepOutputs _outputs = new();
    private StepPlan? _livePlan;
    private StepPlanSnapshot? _outstanding;

    public SchedulerHost(KvManagerHost kv, SchedulerOptions options, int vocabSize)
    {
        Kv = kv;
        VocabSize = vocabSize;
        Core = new EngineCore(options, kv.Kv);
    }

    public KvManagerHost Kv { get; }
    public EngineCore Core { get; }
    public Scheduler Scheduler => Core.Scheduler;
    public int VocabSize { get; }

    /// <summary>Queues a request; false with the reason when it can never fit the KV cache.</summary>
    public bool TryAdd(int[] promptIds, SamplingParams samplingParams, RequestOptions options, out long requestId, out string rejectReason)
    {
        lock (Kv.Gate)
        {
            bool added = Core.TryAddRequest(promptIds, samplingParams, out Request request, options.Priority, options.CacheKey);
            requestId = request.Id;
            rejectReason = added ? "" : request.RejectReason ?? "rejected";
            return added;
        }
    }

    /// <summary>Cancels now, or after the outstanding plan's update. False when unknown, finished or already cancelled.</summary>
    public bool Cancel(long requestId)
    {
        lock (Kv.Gate) return Core.Abort(requestId);
    }

    public bool HasUnfinished
    {
        get { lock (Kv.Gate) return Core.HasUnfinished; }
    }

    /// <summary>The next plan, or null when the previous one was not updated yet.</summary>
    public StepPlanSnapshot? Schedule()
    {
        lock (Kv.Gate)
        {
            if (_outstanding is not null) return null;
            _livePlan = Core.BeginStep();
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
            }
            _outstanding = null;
            _livePlan = null;
            IReadOnlyList<OutputDelta> deltas = Core.CompleteStep(entries.Length > 0 ? _outputs : null);
            var builder = new OutputListBuilder();
            // Level 2 has no text and no top-k logprobs (the host samples).
            for (int i = 0; i < deltas.Count; i++) builder.Add(deltas[i], withLogprobs: false);
            return builder.Build();
        }
    }

    public FolioStats GetStats()
    {
        lock (Kv.Gate)
        {
            FolioStats stats = KvManagerHost.ToStats(Kv.Kv.GetStats(), Kv.Kv.BlockSizeTokens);
            SchedulerStats s = Scheduler.GetStats();
            TokenCounts tokens = Core.Outputs.Counts;
            stats.NumPreemptions = s.Preemptions;
            stats.NumRunning = s.NumRunning;
            stats.NumWaiting = s.NumWaiting;
            stats.NumSwapped = s.NumSwapped;
            stats.NumSteps = s.Steps;
            stats.NumPromptTokens = tokens.PromptTokens;
            stats.NumGeneratedTokens = tokens.GeneratedTokens;
            return stats;
        }
    }
}
