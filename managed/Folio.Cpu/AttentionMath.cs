using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu;

/// <summary>
/// The vector pieces of <see cref="PagedAttentionKernel"/>'s two-pass path (no AVX-512, or a head size not a multiple
/// of 16; <see cref="OnlineSoftmaxAttention"/> otherwise): dot product, multiply-add of a row, the in-place
/// max-subtracted exp of a score row, and scaling. 512-bit where the runtime compiles Vector512 natively, 256-bit
/// otherwise, scalar tails; the order of every sum depends only on the lengths, so results do not depend on the batch.
/// </summary>
internal static class AttentionMath
{
    private static bool Wide => Vector512.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        int n = a.Length, i = 0;
        float s;
        if (Wide && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i), acc);
            s = Vector512.Sum(acc);
        }
        else
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), acc);
            s = Vector256.Sum(acc);
        }
        for (; i < n; i++)
            s += a[i] * b[i];
        return s;
    }

    /// <summary>
    /// d[j] = Dot(a, b_j) · scale for four rows b0..b3 of length n: each with exactly <see cref="Dot"/>'s operations in
    /// its order (so the same bits), interleaved so that four independent FMA chains overlap instead of one waiting on
    /// its own latency. Refs unchecked: the caller guarantees n floats behind every ref and four behind d.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot4(ref float a, ref float b0, ref float b1, ref float b2, ref float b3, int n, float scale, ref float d)
    {
        int i = 0;
        float s0, s1, s2, s3;
        if (Wide && n >= 16)
        {
            Vector512<float> c0 = Vector512<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
            for (; i + 16 <= n; i += 16)
            {
                var va = Vector512.LoadUnsafe(ref a, (nuint)i);
                c0 = Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref b0, (nuint)i), c0);
                c1 = Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref b1, (nuint)i), c1);
                c2 = Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref b2, (nuint)i), c2);
                c3 = Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref b3, (nuint)i), c3);
            }
            s0 = Vector512.Sum(c0); s1 = Vector512.Sum(c1); s2 = Vector512.Sum(c2); s3 = Vector512.Sum(c3);
        }
        else
        {
            Vector256<float> c0 = Vector256<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
            for (; i + 8 <= n; i += 8)
            {
                var va = Vector256.LoadUnsafe(ref a, (nuint)i);
                c0 = Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref b0, (nuint)i), c0);
                c1 = Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref b1, (nuint)i), c1);
                c2 = Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref b2, (nuint)i), c2);
                c3 = Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref b3, (nuint)i), c3);
            }
            s0 = Vector256.Sum(c0); s1 = Vector256.Sum(c1); s2 = Vector256.Sum(c2); s3 = Vector256.Sum(c3);
        }
        for (; i < n; i++)
        {
            float ai = Unsafe.Add(ref a, i);
            s0 += ai * Unsafe.Add(ref b0, i);
            s1 += ai * Unsafe.Add(ref b1, i);
            s2 += ai * Unsafe.Add(ref b2, i);
            s3 += ai * Unsafe.Add(ref b3, i);
        }
        d = s0 * scale;
        Unsafe.Add(ref d, 1) = s1 * scale;
        Unsafe.Add(ref d, 2) = s2 * scale;
        Unsafe.Add(ref d, 3) = s3 * scale;
    }

    /// <summary>y += alpha · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Wide)
        {
            var va = Vector512.Create(alpha);
            for (; i + 16 <= n; i += 16)
                Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref yr, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
        }
        var vb = Vector256.Create(alpha);
        for (; i + 8 <= n; i += 8)
            Vector256.FusedMultiplyAdd(vb, Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i))
                .StoreUnsafe(ref yr, (nuint)i);
        for (; i < n; i++)
            y[i] += alpha * x[i];
    }

    /// <summary>
    /// <see cref="Axpy"/> of four rows in turn (y += a0 · x0, then a1 · x1, a2 · x2, a3 · x3), with each element's
    /// operations in that order, so the same bits as four calls; y is loaded and stored once for the four. Refs
    /// unchecked: the caller guarantees n floats behind each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy4(float a0, float a1, float a2, float a3, ref float x0, ref float x1, ref float x2, ref float x3, ref float y, int n)
    {
        int i = 0;
        Vector256<float> v0 = Vector256.Create(a0), v1 = Vector256.Create(a1), v2 = Vector256.Create(a2), v3 = Vector256.Create(a3);
        for (; i + 8 <= n; i += 8)
        {
            nuint at = (nuint)i;
            var acc = Vector256.FusedMultiplyAdd(v0, Vector256.LoadUnsafe(ref x0, at), Vector256.LoadUnsafe(ref y, at));
            acc = Vector256.FusedMultiplyAdd(v1, Vector256.LoadUnsafe(ref x1, at), acc);
            acc = Vector256.FusedMultiplyAdd(v2, Vector256.LoadUnsafe(ref x2, at), acc);
            Vector256.FusedMultiplyAdd(v3, Vector256.LoadUnsafe(ref x3, at), acc).StoreUnsafe(ref y, at);
        }
        for (; i < n; i++)
        {
            ref float yi = ref Unsafe.Add(ref y, i);
            yi += a0 * Unsafe.Add(ref x0, i);
            yi += a1 * Unsafe.Add(ref x1, i);
            yi += a2 * Unsafe.Add(ref x2, i);
            yi += a3 * Unsafe.Add(ref x3, i);
        }
    }

    /// <summary>x ← exp(x − max x) in place; returns the sum of the new values.</summary>
    public static float ExpShiftedInPlace(Span<float> x)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        float max = float.NegativeInfinity;
        int i = 0;
        if (Wide && n >= 16)
        {
            var vm = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= n; i += 16)
                vm = Vector512.Max(vm, Vector512.LoadUnsafe(ref xr, (nuint)i));
            for (int l = 0; l < 16; l++)
                max = MathF.Max(max, vm[l]);
        }
        for (; i < n; i++)
            max = MathF.Max(max, x[i]);
        float sum;
        i = 0;
        if (Wide && n >= 16)
        {
            var shift = Vector512.Create(max);
            var vs = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                var e = Vector512.Exp(Vector512.LoadUnsafe(ref xr, (nuint)i) - shift);
                e.StoreUnsafe(ref xr, (nuint)i);
                vs += e;
            }
            sum = Vector512.Sum(vs);
        }
        else
        {
            var shift = Vector256.Create(max);
            var vs = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref xr, (nuint)i) - shift);
                e.StoreUnsafe(ref xr, (nuint)i);
                vs += e;
            }
            sum = Vector256.Sum(vs);
        }
        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        return sum;
    }

    public static void Scale(Span<float> x, float factor)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] *= factor;
    }
}
