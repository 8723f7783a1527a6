using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>One core's L1 data cache in bytes, from CPUID, for the kernel choices that depend on what fits it (each
/// names its measurement where it is made). 0 where CPUID does not tell (another architecture, a hypervisor that hides
/// the leaf): callers then keep the choice measured on the 48 KiB L1 of the Intel VM.</summary>
internal static class L1DataCache
{
    public static int Bytes { get; } = Read();

    private static int Read()
    {
        if (!X86Base.IsSupported)
            return 0;
        if (CpuVendor.IsAmd)
        {
            // Leaf 0x8000_0005 (L1 cache and TLB identifiers): ECX[31:24] is the L1 data cache in KiB.
            (int maxExtended, _, _, _) = X86Base.CpuId(unchecked((int)0x8000_0000), 0);
            if ((uint)maxExtended < 0x8000_0005)
                return 0;
            (_, _, int ecx, _) = X86Base.CpuId(unchecked((int)0x8000_0005), 0);
            return (int)((uint)ecx >> 24) * 1024;
        }
        (int maxBasic, _, _, _) = X86Base.CpuId(0, 0);
        if (maxBasic < 4)
            return 0;
        // Leaf 4 (deterministic cache parameters), one subleaf a cache until type 0: the level-1 data cache's size is
        // ways × partitions × line bytes × sets, each field stored minus one.
        for (int sub = 0; sub < 16; sub++)
        {
            (int eax, int ebx, int ecx, _) = X86Base.CpuId(4, sub);
            int type = eax & 0x1F, level = (eax >> 5) & 0x7;
            if (type == 0)
                break;
            if (type == 1 && level == 1)
                return (((ebx >> 22) & 0x3FF) + 1) * (((ebx >> 12) & 0x3FF) + 1) * ((ebx & 0xFFF) + 1) * (ecx + 1);
        }
        return 0;
    }
}
