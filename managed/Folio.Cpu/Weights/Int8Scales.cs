using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>
/// Where an <see cref="Int8Weight"/>'s group scales come from, for the int8 tiles (a struct type argument: the JIT
/// compiles each tile once per kind, loads inlined): fp16 (<see cref="HalfScales"/>, every weight Folio quantizes
/// and GGUF's Q8_0/Q4_0/Q5_0/IQ4_NL, 2 bytes a group) or fp32 (<see cref="SingleScales"/>, GGUF IQ4_XS, whose
/// group scale d · (sc − 32) is an fp32 product). Both give the tiles the same fp32 values the scalar
/// <see cref="Int8Weight.Scale"/> reads. Index: [panel][group][8 columns], as <see cref="Int8Weight.Scales"/>.
/// </summary>
internal interface IInt8Scales
{
    /// <summary>The start of <paramref name="w"/>'s scales, as bytes.</summary>
    static abstract ref byte Base(Int8Weight w);

    /// <summary>Whether the scales are fp16 (else fp32).</summary>
    static abstract bool IsHalf { get; }

    /// <summary>The 8 scales of one panel's group at <paramref name="index"/> as fp32.</summary>
    static abstract Vector256<float> Load8(ref byte scales, nuint index);

    /// <summary>The 8 scales at <paramref name="index"/> of panel p and the 8 one panel stride on (panel p + 1).</summary>
    static abstract Vector512<float> Load16(ref byte scales, nuint index, nuint panelStride);
}

/// <summary>fp16 scales (<see cref="Int8Weight.Scales"/>).</summary>
internal readonly struct HalfScales : IInt8Scales
{
    public static ref byte Base(Int8Weight w) => ref Unsafe.As<ushort, byte>(ref MemoryMarshal.GetArrayDataReference(w.Scales));

    public static bool IsHalf => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte scales, nuint index) =>
        Int8Gemm.Scales(ref Unsafe.Add(ref Unsafe.As<byte, ushort>(ref scales), index));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ref byte scales, nuint index, nuint panelStride) =>
        PanelPairs.Scales(ref Unsafe.Add(ref Unsafe.As<byte, ushort>(ref scales), index), panelStride);
}

/// <summary>fp32 scales (<see cref="Int8Weight.SingleScales"/>).</summary>
internal readonly struct SingleScales : IInt8Scales
{
    public static ref byte Base(Int8Weight w) => ref Unsafe.As<float, byte>(ref MemoryMarshal.GetArrayDataReference(w.SingleScales!));

    public static bool IsHalf => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte scales, nuint index) =>
        Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref scales), index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ref byte scales, nuint index, nuint panelStride)
    {
        ref float s = ref Unsafe.As<byte, float>(ref scales);
        return Vector512.Create(Vector256.LoadUnsafe(ref s, index), Vector256.LoadUnsafe(ref s, index + panelStride));
    }
}
