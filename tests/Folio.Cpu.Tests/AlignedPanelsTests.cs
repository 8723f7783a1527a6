using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Folio.Cpu;

namespace Folio.Cpu.Tests;

public class AlignedPanelsTests
{
    /// <summary>Panels of every element type the weights use start on a 64-byte line (a panel row's 512-bit load is
    /// then one cache line), hold at least the elements asked for, start zeroed, and index from their first element.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(512 * 1024 - 16)]
    [InlineData(3_000_001)]
    public void PanelsStartOnALineZeroed(int length)
    {
        Check(AlignedPanels<float>.Allocate(length), length);
        Check(AlignedPanels<uint>.Allocate(length), length);
        Check(AlignedPanels<byte>.Allocate(length), length);
        Check(AlignedPanels<sbyte>.Allocate(length), length);
    }

    private static void Check<T>(AlignedPanels<T> panels, int length) where T : unmanaged
    {
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(panels.Data, panels.Offset);   // pinned: the address holds
        Assert.Equal(0, address % 64);
        Assert.True(panels.Length >= length);
        Assert.True(panels.Span.Length >= length);
        Assert.All(panels.Span[..length].ToArray(), v => Assert.Equal(default, v));
        Assert.True(Unsafe.AreSame(ref panels.Base, ref panels.Data[panels.Offset]));
        Assert.True(Unsafe.AreSame(ref panels.Span[length - 1], ref panels.Data[panels.Offset + length - 1]));
    }
}
