using System.Runtime.InteropServices;

namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>folio_step_plan_view</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioStepPlanView
{
    public uint StructSize;
    public int BlockSizeTokens;
    public ulong StepId;
    public long NumSeqs;
    public long* SeqIds;
    public long* RequestIds;
    public int* QueryStart;
    public int* ContextLens;
    public long NumTokens;
    public int* TokenIds;
    public int* Positions;
    public int* SlotMapping;
    public int MaxBlocksPerSeq;
    public int Reserved0;
    public int* BlockTables;
    public long NumLogits;
    public int* LogitsTokenIndex;
    public int* LogitsSeqRow;
    public int* NumSamples;
    public int* SuppressStop;
    public long NumSampled;
    public long NumBlockCopies;
    public int* BlockCopies;
    public long NumSwapIn;
    public int* SwapIn;
    public long NumSwapOut;
    public int* SwapOut;
    public long* SlotMappingI64;
}
