using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Folio.Cpu;

/// <summary>
/// A packed fp32 weight (<see cref="Gemm"/>'s 16-column panels) inside <see cref="Data"/> from float index
/// <see cref="Offset"/>, which puts element 0 on a 64-byte boundary: every 64-byte panel row then lies in one cache
/// line (a .NET array's elements start 16 bytes after its header, at any multiple of 8 mod 64, and then every
/// Vector512 load of a panel would touch two lines). The array is pinned (allocated on the pinned object heap), so
/// the alignment holds for its lifetime, and on huge pages where the OS gives them (<see cref="HugePages"/>).
/// </summary>
internal readonly struct FloatPanels(float[] data, int offset)
{
    private const int LineBytes = 64;

    public float[] Data { get; } = data;

    public int Offset { get; } = offset;

    /// <summary>Floats available from <see cref="Offset"/>.</summary>
    public long Length => Data.LongLength - Offset;

    /// <summary>Element 0 of the panels.</summary>
    public ref float Base
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Data), Offset);
    }

    public float this[int i] => Data[Offset + i];

    /// <summary>A pinned array with room for <paramref name="length"/> floats from a 64-byte boundary, or from a 2 MiB
    /// one where the panels fill at least a huge page: only whole 2 MiB pages inside the array can be huge, and from
    /// an arbitrary start a 2.4 MB [768, 768] weight may hold none and a 12.6 MB gate/up five of its six (on the Zen 4 VM
    /// ~70 % of b8's fp32 weights were on huge pages; aligned, all but each weight's last partial page: 32-row
    /// model-order GEMMs ~1.03× faster, RESULTS.md). The gap before the start is address space, never touched.</summary>
    public static unsafe FloatPanels Allocate(int length)
    {
        int align = (long)length * sizeof(float) >= HugePages.PageBytes ? (int)HugePages.PageBytes : LineBytes;
        var data = HugePages.NewArray<float>(checked(length + align / sizeof(float) - 1));
        long address = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data));
        // Element addresses are multiples of 4 (in practice 8), so the gap to the next boundary is whole floats.
        int offset = (int)((align - address % align) % align / sizeof(float));
        return new FloatPanels(data, offset);
    }
}
