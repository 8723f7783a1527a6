using System.Runtime.InteropServices;

namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>folio_stats</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FolioStats
{
    public uint StructSize;
    public int BlockSizeTokens;
    public long KvBlocksTotal;
    public long KvBlocksUsed;
    public long KvBlocksFree;
    public long KvBlocksCached;
    public long KvBlocksShared;
    public long CpuBlocksUsed;
    public double KvUtilizationPct;
    public double PrefixHitRate;
    public long NumPreemptions;
    public long NumRunning;
    public long NumWaiting;
    public long NumSwapped;
    public long NumSteps;
    public long NumPromptTokens;
    public long NumGeneratedTokens;
    public double GeneratedTokensPerS;
}
