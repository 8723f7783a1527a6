using System.Runtime.InteropServices;

namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>folio_engine_params</c>: same fields, same order, same C types.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FolioEngineParams
{
    public uint StructSize;
    public int Device;
    public byte* Model;
    public ulong ModelLen;
    public int BlockSizeTokens;
    public int NumGpuBlocks;
    public ulong KvMemoryBytes;
    public int NumCpuBlocks;
    public int MaxNumSeqs;
    public int MaxNumBatchedTokens;
    public int EnablePrefixCaching;
    public int PreemptionMode;
    public int LogLevel;
    public delegate* unmanaged<int, byte*, ulong, void*, void> LogCallback;
    public void* LogUserData;
    public int NumThreads;
    public ulong Seed;
    // ABI 1.2
    public int SchedulingPolicy;
    public int Reserved0;
    // ABI 1.3
    public int Quantization;
    public int Reserved1;
    // ABI 1.4
    public int Dtype;
    public float GpuMemoryUtilization;
    // ABI 1.5
    public int KvCacheDtype;
    public int Reserved2;
}
