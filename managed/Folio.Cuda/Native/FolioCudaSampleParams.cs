using System.Runtime.InteropServices;

namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>folio_cuda_sample_params</c>: every pointer is device memory; NULL per-row arrays are "off".</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioCudaSampleParams
{
    public uint StructSize;
    public int NumRows;
    public int VocabSize;
    public int Dtype;
    public void* Logits;
    public long LogitsRowStride;
    public float* Temperature;
    public int* TopK;
    public float* TopP;
    public float* MinP;
    public float* PresencePenalty;
    public float* FrequencyPenalty;
    public float* RepetitionPenalty;
    public ulong* Seeds;
    public ulong* DrawIndex;
    public int* PromptTokens;
    public int* PromptOffsets;
    public int* OutputTokens;
    public int* OutputOffsets;
    public int* SuppressedTokens;
    public int* SuppressedOffsets;
    public int ValidVocab;
    public int NumLogprobs;
    public int* Sampled;
    public float* SampledLogprobs;
    public int* TopIds;
    public float* TopLogprobs;
    public void* Workspace;
    public nuint WorkspaceBytes;
}
