using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Folio.Cpu;

/// <summary>The x86 vendor string (CPUID leaf 0), for the few kernel choices measured to differ between Intel and AMD
/// cores (each names its measurement where it is made).</summary>
internal static class CpuVendor
{
    /// <summary>"AuthenticAMD", "GenuineIntel", …; empty where there is no CPUID (another architecture).</summary>
    public static string Name { get; } = Read();

    public static bool IsAmd => Name == "AuthenticAMD";

    private static string Read()
    {
        if (!X86Base.IsSupported)
            return "";
        (_, int ebx, int ecx, int edx) = X86Base.CpuId(0, 0);
        // The 12 characters are in EBX, EDX, ECX order.
        Span<byte> text = stackalloc byte[12];
        BitConverter.TryWriteBytes(text, ebx);
        BitConverter.TryWriteBytes(text[4..], edx);
        BitConverter.TryWriteBytes(text[8..], ecx);
        return Encoding.ASCII.GetString(text);
    }
}
