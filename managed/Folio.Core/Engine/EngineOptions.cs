using Folio.Core.KvCache;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>Everything an <see cref="LlmEngine"/> is configured with: the KV cache and the scheduler.</summary>
public sealed record EngineOptions
{
    public required KvCacheOptions KvCache { get; init; }
    public SchedulerOptions Scheduler { get; init; } = new();

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(KvCache, nameof(KvCache));
        ArgumentNullException.ThrowIfNull(Scheduler, nameof(Scheduler));
        KvCache.Validate();
        Scheduler.Validate();
    }
}
