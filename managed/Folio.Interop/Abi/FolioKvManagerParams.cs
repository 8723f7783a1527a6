using System.Runtime.InteropServices;

namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>folio_kv_manager_params</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FolioKvManagerParams
{
    public uint StructSize;
    public int NumGpuBlocks;
    public int BlockSizeTokens;
    public int NumCpuBlocks;
    public int EnablePrefixCaching;
}
