using System.Runtime.Intrinsics.X86;
using Xunit;

namespace Folio.Cpu.Tests;

public class L1DataCacheTests
{
    /// <summary>CPUID's L1 data cache size equals what Linux reports for cpu0's level-1 data cache (its own reading of the
    /// same leaves) where both exist; 0 without CPUID.</summary>
    [Fact]
    public void TheL1DataCacheIsTheSizeLinuxReports()
    {
        if (!X86Base.IsSupported)
        {
            Assert.Equal(0, L1DataCache.Bytes);
            return;
        }
        const string dir = "/sys/devices/system/cpu/cpu0/cache/index0";
        if (!File.Exists($"{dir}/size") || File.ReadAllText($"{dir}/type").Trim() != "Data" || File.ReadAllText($"{dir}/level").Trim() != "1")
        {
            Assert.True(L1DataCache.Bytes == 0 || L1DataCache.Bytes % 1024 == 0, $"{L1DataCache.Bytes}");
            return;
        }
        string size = File.ReadAllText($"{dir}/size").Trim();   // e.g. "32K"
        Assert.EndsWith("K", size);
        Assert.Equal(int.Parse(size[..^1]) * 1024, L1DataCache.Bytes);
    }
}
