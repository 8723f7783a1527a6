using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>Everything an <see cref="LlmEngine"/> is configured with: the KV cache and the scheduler.</summary>
public sealed record EngineOptions
{
    public required KvCacheOptions KvCache { get; init; }
    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Compiles structured outputs and tokenizes bad words (Folio.Structured's <c>GrammarConstraintFactory</c>
    /// over the model's tokenizer); null = requests with those fields are refused.</summary>
    public ITokenConstraintFactory? TokenConstraints { get; init; }

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(KvCache, nameof(KvCache));
        ArgumentNullException.ThrowIfNull(Scheduler, nameof(Scheduler));
        KvCache.Validate();
        Scheduler.Validate();
        // Swap preemption moves a victim's blocks to the CPU pool: with none, every preemption would fail later,
        // mid-step, instead of here.
        if (Scheduler.PreemptionMode == PreemptionMode.Swap && KvCache.NumCpuBlocks == 0)
            throw new ArgumentException("preemption_mode is swap, but num_cpu_blocks is 0: swap preemption needs CPU swap blocks " +
                "(set num_cpu_blocks > 0, or use recompute preemption).", nameof(Scheduler));
    }
}
