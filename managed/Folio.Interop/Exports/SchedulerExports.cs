using System.Runtime.InteropServices;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;
using Folio.Interop.Hosts;
using Folio.Interop.Runtime;

namespace Folio.Interop.Exports;

/// <summary>folio_scheduler_* and folio_step_plan_*: the scheduler for hosts that run their own model (level 2).</summary>
public static unsafe class SchedulerExports
{
    private const ulong MaxPromptTokens = 1 << 26;

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_create")]
    public static int Create(nint kv, FolioSchedulerParams* parameters, nint* outScheduler)
    {
        const string fn = "folio_scheduler_create";
        try
        {
            int s;
            if ((s = Args.Handle(kv, HandleKind.KvManager, fn, "kv", out KvManagerHost kvHost)) != 0) return s;
            if ((s = StructIo.Read(parameters, fn, "params", "folio_scheduler_params", Defaults.SchedulerParams(), out FolioSchedulerParams p)) != 0) return s;
            if ((s = Args.NotNull(outScheduler, fn, "out_scheduler")) != 0) return s;
            if (p.VocabSize < 1) return KvManagerExports.Bad(fn, "vocab_size", p.VocabSize, ">= 1");
            if (p.EosTokenId < -1 || p.EosTokenId >= p.VocabSize)
            {
                return KvManagerExports.Bad(fn, "eos_token_id", p.EosTokenId, $"-1 (none) or 0..{p.VocabSize - 1}");
            }
            if (p.PreemptionMode is not ((int)FolioPreemptionMode.Recompute or (int)FolioPreemptionMode.Swap))
            {
                return KvManagerExports.Bad(fn, "preemption_mode", p.PreemptionMode, "FOLIO_PREEMPTION_RECOMPUTE (0) or FOLIO_PREEMPTION_SWAP (1)");
            }
            if (p.SchedulingPolicy is not ((int)FolioSchedulingPolicy.Fcfs or (int)FolioSchedulingPolicy.Priority))
            {
                return KvManagerExports.Bad(fn, "scheduling_policy", p.SchedulingPolicy, "FOLIO_SCHEDULING_FCFS (0) or FOLIO_SCHEDULING_PRIORITY (1)");
            }
            if (p.PreemptionMode == (int)FolioPreemptionMode.Swap && kvHost.Kv.CpuPool is null or { NumBlocks: 0 })
            {
                return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: params->preemption_mode is FOLIO_PREEMPTION_SWAP, but kv has " +
                    "no CPU swap blocks (folio_kv_manager_params.num_cpu_blocks is 0): set num_cpu_blocks > 0, or use FOLIO_PREEMPTION_RECOMPUTE");
            }
            var options = new SchedulerOptions
            {
                MaxNumSeqs = p.MaxNumSeqs,
                MaxNumBatchedTokens = p.MaxNumBatchedTokens,
                PreemptionMode = p.PreemptionMode == (int)FolioPreemptionMode.Swap ? PreemptionMode.Swap : PreemptionMode.Recompute,
                EosTokenId = p.EosTokenId,
                Policy = p.SchedulingPolicy == (int)FolioSchedulingPolicy.Priority ? SchedulingPolicy.Priority : SchedulingPolicy.Fcfs,
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: params: {e.Message}");
            }
            lock (kvHost.Gate)
            {
                if (kvHost.Claimed)
                {
                    return Guard.Fail(FolioStatus.InvalidState, $"{fn}: kv already belongs to another scheduler");
                }
                kvHost.Claimed = true;
            }
            return Handles.Publish(HandleKind.Scheduler, new SchedulerHost(kvHost, options, p.VocabSize), outScheduler, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_destroy")]
    public static void Destroy(nint scheduler)
    {
        try { HandleTable.Shared.Remove<SchedulerHost>(scheduler, HandleKind.Scheduler); }
        catch (Exception e) { Guard.CatchVoid(e, "folio_scheduler_destroy"); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_add_request")]
    public static int AddRequest(nint scheduler, int* promptIds, ulong numIds, FolioSamplingParams* parameters, ulong* outRequestId)
    {
        const string fn = "folio_scheduler_add_request";
        try
        {
            int s;
            if ((s = Args.Handle(scheduler, HandleKind.Scheduler, fn, "scheduler", out SchedulerHost host)) != 0) return s;
            if ((s = Args.NotNull(outRequestId, fn, "out_request_id")) != 0) return s;
            if ((s = Args.NotNull(promptIds, fn, "prompt_ids")) != 0) return s;
            if ((s = Args.Count(numIds, MaxPromptTokens, fn, "num_ids")) != 0) return s;
            var ids = new ReadOnlySpan<int>(promptIds, (int)numIds).ToArray();
            if ((s = Args.TokenIds(ids, host.VocabSize, fn, "prompt_ids")) != 0) return s;
            if ((s = SamplingParamsReader.Read(parameters, fn, out SamplingParams sampling, out RequestOptions options)) != 0) return s;
            if (sampling.UseBeamSearch)
            {
                return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: params->beam_width: beam search runs at the engine level only");
            }
            if (sampling.Stop.Count > 0)
            {
                return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: params->stop: stop strings need a tokenizer; the scheduler level has none");
            }
            if (!host.TryAdd(ids, sampling, options, out long id, out string reason))
            {
                return Guard.Fail(FolioStatus.RequestRejected, $"{fn}: request rejected: {reason}");
            }
            *outRequestId = (ulong)id;
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_cancel")]
    public static int Cancel(nint scheduler, ulong requestId)
    {
        const string fn = "folio_scheduler_cancel";
        try
        {
            int s;
            if ((s = Args.Handle(scheduler, HandleKind.Scheduler, fn, "scheduler", out SchedulerHost host)) != 0) return s;
            if (requestId > long.MaxValue || !host.Cancel((long)requestId))
            {
                return Guard.Fail(FolioStatus.NotFound, $"{fn}: request {requestId} is unknown, already finished or already cancelled");
            }
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_has_unfinished")]
    public static int HasUnfinished(nint scheduler, int* outHasUnfinished)
    {
        const string fn = "folio_scheduler_has_unfinished";
        try
        {
            int s;
            if ((s = Args.Handle(scheduler, HandleKind.Scheduler, fn, "scheduler", out SchedulerHost host)) != 0) return s;
            if ((s = Args.NotNull(outHasUnfinished, fn, "out_has_unfinished")) != 0) return s;
            *outHasUnfinished = host.HasUnfinished ? 1 : 0;
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_schedule")]
    public static int Schedule(nint scheduler, nint* outPlan)
    {
        const string fn = "folio_scheduler_schedule";
        try
        {
            int s;
            if ((s = Args.Handle(scheduler, HandleKind.Scheduler, fn, "scheduler", out SchedulerHost host)) != 0) return s;
            if ((s = Args.NotNull(outPlan, fn, "out_plan")) != 0) return s;
            StepPlanSnapshot? plan = host.Schedule();
            if (plan is null)
            {
                return Guard.Fail(FolioStatus.InvalidState, $"{fn}: the previous plan was not handed back with folio_scheduler_update");
            }
            return Handles.Publish(HandleKind.StepPlan, plan, outPlan, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_step_plan_get")]
    public static int PlanGet(nint plan, FolioStepPlanView* outView)
    {
        const string fn = "folio_step_plan_get";
        try
        {
            int s;
            if ((s = Args.Handle(plan, HandleKind.StepPlan, fn, "plan", out StepPlanSnapshot snapshot)) != 0) return s;
            if ((s = StructIo.CheckOut<FolioStepPlanView>(outView, fn, "out_view", "folio_step_plan_view")) != 0) return s;
            StructIo.Write(outView, snapshot.View);
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_step_plan_destroy")]
    public static void PlanDestroy(nint plan)
    {
        try
        {
            // The outstanding plan stays resolvable until folio_scheduler_update hands it back, which releases it.
            if (HandleTable.Shared.TryGet(plan, HandleKind.StepPlan, out StepPlanSnapshot snapshot) && snapshot.Owner.TryDeferRelease(snapshot))
                return;
            HandleTable.Shared.Remove<StepPlanSnapshot>(plan, HandleKind.StepPlan);
        }
        catch (Exception e) { Guard.CatchVoid(e, "folio_step_plan_destroy"); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_update")]
    public static int Update(nint scheduler, nint plan, int* sampledIds, float* sampledLogprobs, ulong numSampled, nint* outOutputs)
    {
        const string fn = "folio_scheduler_update";
        try
        {
            int s;
            if ((s = Args.Handle(scheduler, HandleKind.Scheduler, fn, "scheduler", out SchedulerHost host)) != 0) return s;
            if ((s = Args.Handle(plan, HandleKind.StepPlan, fn, "plan", out StepPlanSnapshot snapshot)) != 0) return s;
            if ((s = Args.NotNull(outOutputs, fn, "out_outputs")) != 0) return s;
            if (!host.IsOutstanding(snapshot))
            {
                return Guard.Fail(FolioStatus.InvalidState, $"{fn}: plan (step {snapshot.StepIndex}) is not this scheduler's outstanding plan");
            }
            if (numSampled != (ulong)snapshot.NumSampled)
            {
                return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: num_sampled is {numSampled}; the plan samples {snapshot.NumSampled} tokens");
            }
            if ((s = Args.Array(sampledIds, numSampled, MaxPromptTokens, fn, "sampled_ids", "num_sampled")) != 0) return s;
            var ids = new ReadOnlySpan<int>(sampledIds, (int)numSampled);
            if ((s = Args.TokenIds(ids, host.VocabSize, fn, "sampled_ids")) != 0) return s;
            var logprobs = sampledLogprobs == null ? default : new ReadOnlySpan<float>(sampledLogprobs, (int)numSampled);
            OutputList? list = host.Update(snapshot, ids, logprobs);
            if (list is null)
            {
                return Guard.Fail(FolioStatus.InvalidState, $"{fn}: plan (step {snapshot.StepIndex}) was updated by another call meanwhile");
            }
            if (snapshot.ReleaseRequested) HandleTable.Shared.Remove<StepPlanSnapshot>(plan, HandleKind.StepPlan);
            return Handles.Publish(HandleKind.Outputs, list, outOutputs, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_scheduler_get_stats")]
    public static int GetStats(nint scheduler, FolioStats* outStats)
    {
        const string fn = "folio_scheduler_get_stats";
        try
        {
            int s;
            if ((s = Args.Handle(scheduler, HandleKind.Scheduler, fn, "scheduler", out SchedulerHost host)) != 0) return s;
            if ((s = StructIo.CheckOut<FolioStats>(outStats, fn, "out_stats", "folio_stats")) != 0) return s;
            StructIo.Write(outStats, host.GetStats());
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }
}
