using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

public class EngineOptionsTests
{
    private static EngineOptions Options(PreemptionMode mode, int cpuBlocks) => new()
    {
        KvCache = new KvCacheOptions { NumGpuBlocks = 16, BlockSizeTokens = 4, NumCpuBlocks = cpuBlocks },
        Scheduler = new SchedulerOptions { PreemptionMode = mode },
    };

    [Fact]
    public void Swap_preemption_without_cpu_blocks_is_refused_at_creation()
    {
        var e = Assert.Throws<ArgumentException>(() => Options(PreemptionMode.Swap, 0).Validate());
        Assert.StartsWith("preemption_mode is swap, but num_cpu_blocks is 0: swap preemption needs CPU swap blocks", e.Message);
        Options(PreemptionMode.Swap, 8).Validate();
        Options(PreemptionMode.Recompute, 0).Validate();
    }
}
