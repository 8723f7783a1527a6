using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>bfloat16: the top 16 bits of an fp32 pattern, so widening is a mask or a 16-bit shift.</summary>
internal readonly struct Bf16Panel : IHalfPanel
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> High(Vector512<uint> words) => (words & Vector512.Create(0xFFFF0000u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Low(Vector512<uint> words) => (words << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> High(Vector256<uint> words) => (words & Vector256.Create(0xFFFF0000u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Low(Vector256<uint> words) => (words << 16).AsSingle();

    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0xFFFF) != 0)
            throw new ArgumentException($"{value} is not a bfloat16 value");
        return (ushort)(bits >> 16);
    }
}
