using System.Runtime.InteropServices;

namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>folio_request_output</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioRequestOutput
{
    public uint StructSize;
    public int FinishReason;
    public ulong RequestId;
    public int SeqIndex;
    public int RequestFinished;
    public int* TokenIds;
    public ulong NumTokens;
    public double CumulativeLogprob;
    public int NumTopLogprobs;
    public int Reserved0;
    public int* TopTokenIds;
    public float* TopLogprobs;
    public byte* Text;
    public ulong TextLen;
    public ulong NumPromptTokens;
    // ABI 1.2
    public byte* RejectReason;
    public ulong RejectReasonLen;
}
