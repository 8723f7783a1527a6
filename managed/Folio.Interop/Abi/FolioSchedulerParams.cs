using System.Runtime.InteropServices;

namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>folio_scheduler_params</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FolioSchedulerParams
{
    public uint StructSize;
    public int MaxNumSeqs;
    public int MaxNumBatchedTokens;
    public int PreemptionMode;
    public int VocabSize;
    public int EosTokenId;
    // ABI 1.2
    public int SchedulingPolicy;
}
