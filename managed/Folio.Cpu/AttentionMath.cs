using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu;

/// <summary>
/// The vector pieces of <see cref="PagedAttentionKernel"/>: dot product, multiply-add of a row, the in-place
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
    /// For 64-float rows under 512-bit vectors: y_h += Σ_i w_h[i] · V[slots[i] + offset .. + 64) for one or two heads h
    /// (w_1, y_1 only when two), the rows in slot order. Each element gets the FMAs that <see cref="Axpy"/> called once per
    /// row would give it, in the same order, so the same bits; the sums stay in registers (4 or 8 independent chains)
    /// instead of a load and a store per row. Refs unchecked: the caller guarantees every row and count weights.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AxpyRows64(ref float values, ReadOnlySpan<int> slots, int offset, ref float w0, ref float y0,
        ref float w1, ref float y1, bool two)
    {
        var a0 = Vector512.LoadUnsafe(ref y0, 0);
        var a1 = Vector512.LoadUnsafe(ref y0, 16);
        var a2 = Vector512.LoadUnsafe(ref y0, 32);
        var a3 = Vector512.LoadUnsafe(ref y0, 48);
        if (!two)
        {
            for (int i = 0; i < slots.Length; i++)
            {
                ref float v = ref Unsafe.Add(ref values, slots[i] + offset);
                var w = Vector512.Create(Unsafe.Add(ref w0, i));
                a0 = Vector512.FusedMultiplyAdd(w, Vector512.LoadUnsafe(ref v, 0), a0);
                a1 = Vector512.FusedMultiplyAdd(w, Vector512.LoadUnsafe(ref v, 16), a1);
                a2 = Vector512.FusedMultiplyAdd(w, Vector512.LoadUnsafe(ref v, 32), a2);
                a3 = Vector512.FusedMultiplyAdd(w, Vector512.LoadUnsafe(ref v, 48), a3);
            }
        }
        else
        {
            var b0 = Vector512.LoadUnsafe(ref y1, 0);
            var b1 = Vector512.LoadUnsafe(ref y1, 16);
            var b2 = Vector512.LoadUnsafe(ref y1, 32);
            var b3 = Vector512.LoadUnsafe(ref y1, 48);
            for (int i = 0; i < slots.Length; i++)
            {
                ref float v = ref Unsafe.Add(ref values, slots[i] + offset);
                var v0 = Vector512.LoadUnsafe(ref v, 0);
                var v1 = Vector512.LoadUnsafe(ref v, 16);
                var v2 = Vector512.LoadUnsafe(ref v, 32);
                var v3 = Vector512.LoadUnsafe(ref v, 48);
                var w = Vector512.Create(Unsafe.Add(ref w0, i));
                a0 = Vector512.FusedMultiplyAdd(w, v0, a0);
                a1 = Vector512.FusedMultiplyAdd(w, v1, a1);
                a2 = Vector512.FusedMultiplyAdd(w, v2, a2);
                a3 = Vector512.FusedMultiplyAdd(w, v3, a3);
                var u = Vector512.Create(Unsafe.Add(ref w1, i));
                b0 = Vector512.FusedMultiplyAdd(u, v0, b0);
                b1 = Vector512.FusedMultiplyAdd(u, v1, b1);
                b2 = Vector512.FusedMultiplyAdd(u, v2, b2);
                b3 = Vector512.FusedMultiplyAdd(u, v3, b3);
            }
            b0.StoreUnsafe(ref y1, 0);
            b1.StoreUnsafe(ref y1, 16);
            b2.StoreUnsafe(ref y1, 32);
            b3.StoreUnsafe(ref y1, 48);
        }
        a0.StoreUnsafe(ref y0, 0);
        a1.StoreUnsafe(ref y0, 16);
        a2.StoreUnsafe(ref y0, 32);
        a3.StoreUnsafe(ref y0, 48);
    }

    /// <summary>Whether <see cref="AxpyRows64"/> gives rows of length d the bits of <see cref="Axpy"/>: 512-bit vectors, d a multiple of 64.</summary>
    public static bool RowsOf64(int d) => Wide && d % 64 == 0;

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
