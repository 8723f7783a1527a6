using System.Runtime.InteropServices;

namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>folio_sampling_params</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioSamplingParams
{
    public uint StructSize;
    public int N;
    public int MaxTokens;
    public int MinTokens;
    public float Temperature;
    public float TopP;
    public int TopK;
    public float MinP;
    public float PresencePenalty;
    public float FrequencyPenalty;
    public float RepetitionPenalty;
    public int HasSeed;
    public ulong Seed;
    public int IgnoreEos;
    public int Logprobs;
    public int* StopTokenIds;
    public ulong NumStopTokenIds;
    public byte** Stop;
    public ulong* StopLens;
    public ulong NumStop;
    public int BeamWidth;
    public float LengthPenalty;
    // ABI 1.2
    public int Priority;
    public int Reserved0;
    public byte* CacheSalt;
    public ulong CacheSaltLen;
    // ABI 1.3
    public int StructuredOutputKind;
    public int Reserved1;
    public byte* StructuredOutput;
    public ulong StructuredOutputLen;
    public byte** Choices;
    public ulong* ChoiceLens;
    public ulong NumChoices;
    public int* LogitBiasTokenIds;
    public float* LogitBiasValues;
    public ulong NumLogitBias;
    public int* AllowedTokenIds;
    public ulong NumAllowedTokenIds;
    public byte** BadWords;
    public ulong* BadWordLens;
    public ulong NumBadWords;
}
