using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Core.Sampling;

/// <summary>The vector widths of <see cref="PortableExp"/>: each the scalar definition's operations, lane by lane, in
/// the same order. The three are one text with the width changed.</summary>
internal static partial class PortableExp
{
    /// <summary><see cref="ExpShifted"/> in Vector512 (software-emulated where not accelerated: the same bits, slowly).</summary>
    internal static void ExpShifted512(ReadOnlySpan<float> x, float shift, float scale, Span<float> destination)
    {
        CheckLengths(x, destination);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float target = ref MemoryMarshal.GetReference(destination);
        var s = Vector512.Create(shift);
        var k = Vector512.Create(scale);
        int i = 0;
        for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var y = (Vector512.LoadUnsafe(ref source, (nuint)i) - s) * k;
            if (Vector512.GreaterThanAny(y, Vector512.Create(VectorUpTo)))
            {
                for (int j = 0; j < Vector512<float>.Count; j++)
                    Unsafe.Add(ref target, i + j) = Exp(y.GetElement(j));
            }
            else
                Exp(y).StoreUnsafe(ref target, (nuint)i);
        }
        ExpShiftedScalar(x, shift, scale, destination, i);
    }

    /// <summary><see cref="Exp(float)"/> lane by lane for lanes up to <see cref="VectorUpTo"/> (NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        var t = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(Shifter));
        var n = t - Vector512.Create(Shifter);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2High), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Low), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(C7), r, Vector512.Create(C6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        var pow2 = Vector512.ShiftLeft(t.AsInt32() + Vector512.Create(ExponentBiasLessShifter), 23).AsSingle();
        // Lanes under the normal range (−∞ included; their 2ⁿ bits are garbage) become +0; NaN compares false and stays.
        return Vector512.AndNot(p * pow2, Vector512.LessThan(x, Vector512.Create(UnderflowBelow)));
    }

    /// <summary><see cref="ExpShifted"/> in Vector256 (software-emulated where not accelerated: the same bits, slowly).</summary>
    internal static void ExpShifted256(ReadOnlySpan<float> x, float shift, float scale, Span<float> destination)
    {
        CheckLengths(x, destination);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float target = ref MemoryMarshal.GetReference(destination);
        var s = Vector256.Create(shift);
        var k = Vector256.Create(scale);
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var y = (Vector256.LoadUnsafe(ref source, (nuint)i) - s) * k;
            if (Vector256.GreaterThanAny(y, Vector256.Create(VectorUpTo)))
            {
                for (int j = 0; j < Vector256<float>.Count; j++)
                    Unsafe.Add(ref target, i + j) = Exp(y.GetElement(j));
            }
            else
                Exp(y).StoreUnsafe(ref target, (nuint)i);
        }
        ExpShiftedScalar(x, shift, scale, destination, i);
    }

    /// <summary><see cref="Exp(float)"/> lane by lane for lanes up to <see cref="VectorUpTo"/> (NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> x)
    {
        var t = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(Shifter));
        var n = t - Vector256.Create(Shifter);
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2High), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Low), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(C7), r, Vector256.Create(C6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var pow2 = Vector256.ShiftLeft(t.AsInt32() + Vector256.Create(ExponentBiasLessShifter), 23).AsSingle();
        // Lanes under the normal range (−∞ included; their 2ⁿ bits are garbage) become +0; NaN compares false and stays.
        return Vector256.AndNot(p * pow2, Vector256.LessThan(x, Vector256.Create(UnderflowBelow)));
    }

    /// <summary><see cref="ExpShifted"/> in Vector128 (software-emulated where not accelerated: the same bits, slowly).</summary>
    internal static void ExpShifted128(ReadOnlySpan<float> x, float shift, float scale, Span<float> destination)
    {
        CheckLengths(x, destination);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float target = ref MemoryMarshal.GetReference(destination);
        var s = Vector128.Create(shift);
        var k = Vector128.Create(scale);
        int i = 0;
        for (; i <= x.Length - Vector128<float>.Count; i += Vector128<float>.Count)
        {
            var y = (Vector128.LoadUnsafe(ref source, (nuint)i) - s) * k;
            if (Vector128.GreaterThanAny(y, Vector128.Create(VectorUpTo)))
            {
                for (int j = 0; j < Vector128<float>.Count; j++)
                    Unsafe.Add(ref target, i + j) = Exp(y.GetElement(j));
            }
            else
                Exp(y).StoreUnsafe(ref target, (nuint)i);
        }
        ExpShiftedScalar(x, shift, scale, destination, i);
    }

    /// <summary><see cref="Exp(float)"/> lane by lane for lanes up to <see cref="VectorUpTo"/> (NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Exp(Vector128<float> x)
    {
        var t = Vector128.FusedMultiplyAdd(x, Vector128.Create(Log2E), Vector128.Create(Shifter));
        var n = t - Vector128.Create(Shifter);
        var r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2High), x);
        r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Low), r);
        var p = Vector128.FusedMultiplyAdd(Vector128.Create(C7), r, Vector128.Create(C6));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(C5));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(C4));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(C3));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(C2));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128<float>.One);
        p = Vector128.FusedMultiplyAdd(p, r, Vector128<float>.One);
        var pow2 = Vector128.ShiftLeft(t.AsInt32() + Vector128.Create(ExponentBiasLessShifter), 23).AsSingle();
        // Lanes under the normal range (−∞ included; their 2ⁿ bits are garbage) become +0; NaN compares false and stays.
        return Vector128.AndNot(p * pow2, Vector128.LessThan(x, Vector128.Create(UnderflowBelow)));
    }
}
