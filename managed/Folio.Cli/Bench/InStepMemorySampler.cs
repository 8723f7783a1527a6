using System.Diagnostics;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cli.Bench;

/// <summary>
/// Wraps the bench's executor to sample GPU memory while a step computes: after <c>Scheduler.Schedule</c> has
/// appended slots and made the copy-on-write copies, before the forward pass. Sampled between steps instead,
/// the blocks that this step's new forks (beams) share with their parents until their first write — the next
/// Schedule copies them before any K/V is computed in them — would count as saved although they are never
/// shared while a step runs. Its own time is kept apart so that the bench can take it out of the step timings.
/// </summary>
public sealed class InStepMemorySampler(IModelExecutor inner) : IModelExecutor
{
    private KvCacheManager? _kv;

    /// <summary>Sample the next steps (the bench turns this on for its memory window).</summary>
    public bool Enabled { get; set; }
    public long Samples { get; private set; }
    public double PhysicalSum { get; private set; }
    public double LogicalSum { get; private set; }
    /// <summary>Stopwatch ticks spent sampling (inside the engine's step and its execute phase).</summary>
    public long OwnTicks { get; private set; }

    /// <summary>The engine's KV cache manager, known once the engine that owns this executor exists.</summary>
    public void Attach(KvCacheManager kv) => _kv = kv;

    public StepOutputs Execute(StepPlan plan)
    {
        if (Enabled && _kv is not null)
        {
            long t0 = Stopwatch.GetTimestamp();
            Samples++;
            PhysicalSum += _kv.GpuPool.NumUsedBlocks;
            LogicalSum += LogicalGpuBlocks(_kv);
            OwnTicks += Stopwatch.GetTimestamp() - t0;
        }
        return inner.Execute(plan);
    }

    /// <summary>Blocks the GPU-resident sequences would hold if none were shared.</summary>
    public static long LogicalGpuBlocks(KvCacheManager kv)
    {
        long sum = 0;
        var tables = kv.LiveTables;
        for (int i = 0; i < tables.Count; i++)
        {
            if (tables[i].Location == BlockLocation.Gpu)
                sum += tables[i].NumBlocks;
        }
        return sum;
    }
}
