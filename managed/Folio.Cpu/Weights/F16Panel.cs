using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>
/// IEEE half precision, widened in registers without F16C (which .NET does not expose): the exponent and
/// mantissa bits shifted into fp32 position, times 2^112 (the exponent bias difference), which is exact for
/// normals, subnormals and zero; the sign is OR-ed back. Inf/NaN are not weights and are refused at upload.
/// </summary>
internal readonly struct F16Panel : IHalfPanel
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> High(Vector512<uint> words) => Widen(words >> 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Low(Vector512<uint> words) => Widen(words & Vector512.Create(0xFFFFu));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(Vector512<uint> h)
    {
        var magnitude = ((h & Vector512.Create(0x7FFFu)) << 13).AsSingle() * Vector512.Create(MathF.ScaleB(1f, 112));
        return (magnitude.AsUInt32() | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> High(Vector256<uint> words) => Widen(words >> 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Low(Vector256<uint> words) => Widen(words & Vector256.Create(0xFFFFu));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(Vector256<uint> h)
    {
        var magnitude = ((h & Vector256.Create(0x7FFFu)) << 13).AsSingle() * Vector256.Create(MathF.ScaleB(1f, 112));
        return (magnitude.AsUInt32() | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    public static float ToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    public static ushort FromSingle(float value)
    {
        var half = (Half)value;
        if ((float)half != value || !float.IsFinite(value))
            throw new ArgumentException($"{value} is not a finite fp16 value");
        return BitConverter.HalfToUInt16Bits(half);
    }
}
