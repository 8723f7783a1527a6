using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Folio.Cpu;

/// <summary>
/// A packed weight's panels (fp32 panels, bf16/fp16 words) inside <see cref="Data"/> from element
/// <see cref="Offset"/>, which puts element 0 on a 64-byte boundary: a .NET array's elements start 16 bytes after its
/// header, at any multiple of 8 mod 64, and every 64-byte load of a panel row would then touch two cache lines (no
/// speed difference was measured from that alone: bench/RESULTS.md, `bench/cpu_stream_model.c pages`). The array is
/// pinned (allocated on the pinned object heap), so the alignment holds for its lifetime, and advised onto huge pages
/// where the OS gives them (<see cref="HugePages"/>). The elements before the start are unused.
/// </summary>
internal readonly struct AlignedPanels<T>(T[] data, int offset) where T : unmanaged
{
    private const int LineBytes = 64;

    public T[] Data { get; } = data;

    public int Offset { get; } = offset;

    /// <summary>Elements available from <see cref="Offset"/>.</summary>
    public long Length => Data.LongLength - Offset;

    /// <summary>Element 0 of the panels.</summary>
    public ref T Base
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Data), Offset);
    }

    public T this[long i] => Data[Offset + i];

    /// <summary>The panels as a span (packing writes them through it).</summary>
    public Span<T> Span => Data.AsSpan(Offset);

    /// <summary>A zeroed pinned array with room for <paramref name="length"/> elements from a 64-byte boundary.</summary>
    public static unsafe AlignedPanels<T> Allocate(long length)
    {
        var data = HugePages.NewArray<T>(checked(length + LineBytes / sizeof(T) - 1));
        long address = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data));
        // Element addresses are multiples of 8 in practice (the array header); the gap to the boundary is then whole
        // elements for every T of 1, 2, 4 or 8 bytes.
        long gap = (LineBytes - address % LineBytes) % LineBytes;
        if (gap % sizeof(T) != 0)
            throw new InvalidOperationException($"array data at 0x{address:x} is not aligned to its {sizeof(T)}-byte elements");
        return new AlignedPanels<T>(data, (int)(gap / sizeof(T)));
    }
}
