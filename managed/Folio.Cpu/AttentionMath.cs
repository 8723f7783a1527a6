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
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        Dot<float, F32Elements>(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);

    /// <summary>Σ a[i] · b[i] over n, b's elements read as fp32 (<typeparamref name="TLoad"/>): one FMA chain a lane,
    /// the lanes summed, then the tail in order. Refs unchecked: the caller guarantees n elements behind each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot<T, TLoad>(ref float a, ref T b, int n)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        int i = 0;
        float s;
        if (Wide && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), TLoad.Load(ref b, (nuint)i), acc);
            s = Vector512.Sum(acc);
        }
        else
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), TLoad.Load8(ref b, (nuint)i), acc);
            s = Vector256.Sum(acc);
        }
        for (; i < n; i++)
            s += Unsafe.Add(ref a, i) * TLoad.Load1(ref b, (nuint)i);
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot4(ref float a, ref float b0, ref float b1, ref float b2, ref float b3, int n, float scale, ref float d) =>
        Dot4<float, F32Elements>(ref a, ref b0, ref b1, ref b2, ref b3, n, scale, ref d);

    /// <summary>
    /// d[j] = Dot(a, b_j) · scale for four rows b0..b3 of length n: each with exactly <see cref="Dot{T, TLoad}"/>'s
    /// operations in its order (so the same bits), interleaved so that four independent FMA chains overlap instead of
    /// one waiting on its own latency. Refs unchecked: the caller guarantees n elements behind every ref and four behind d.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot4<T, TLoad>(ref float a, ref T b0, ref T b1, ref T b2, ref T b3, int n, float scale, ref float d)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        int i = 0;
        float s0, s1, s2, s3;
        if (Wide && n >= 16)
        {
            Vector512<float> c0 = Vector512<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
            for (; i + 16 <= n; i += 16)
            {
                var va = Vector512.LoadUnsafe(ref a, (nuint)i);
                c0 = Vector512.FusedMultiplyAdd(va, TLoad.Load(ref b0, (nuint)i), c0);
                c1 = Vector512.FusedMultiplyAdd(va, TLoad.Load(ref b1, (nuint)i), c1);
                c2 = Vector512.FusedMultiplyAdd(va, TLoad.Load(ref b2, (nuint)i), c2);
                c3 = Vector512.FusedMultiplyAdd(va, TLoad.Load(ref b3, (nuint)i), c3);
            }
            s0 = Vector512.Sum(c0); s1 = Vector512.Sum(c1); s2 = Vector512.Sum(c2); s3 = Vector512.Sum(c3);
        }
        else
        {
            Vector256<float> c0 = Vector256<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
            for (; i + 8 <= n; i += 8)
            {
                var va = Vector256.LoadUnsafe(ref a, (nuint)i);
                c0 = Vector256.FusedMultiplyAdd(va, TLoad.Load8(ref b0, (nuint)i), c0);
                c1 = Vector256.FusedMultiplyAdd(va, TLoad.Load8(ref b1, (nuint)i), c1);
                c2 = Vector256.FusedMultiplyAdd(va, TLoad.Load8(ref b2, (nuint)i), c2);
                c3 = Vector256.FusedMultiplyAdd(va, TLoad.Load8(ref b3, (nuint)i), c3);
            }
            s0 = Vector256.Sum(c0); s1 = Vector256.Sum(c1); s2 = Vector256.Sum(c2); s3 = Vector256.Sum(c3);
        }
        Dot4Tail<T, TLoad>(ref a, ref b0, ref b1, ref b2, ref b3, i, n, scale, s0, s1, s2, s3, ref d);
    }

    /// <summary>The end of <see cref="Dot4{T, TLoad}"/> (and of each third of <see cref="Dot4x3{T, TLoad}"/>): elements
    /// i .. n − 1 added to the vector sums s0..s3, a product then an add each, and the four scaled stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4Tail<T, TLoad>(ref float a, ref T b0, ref T b1, ref T b2, ref T b3, int i, int n, float scale,
        float s0, float s1, float s2, float s3, ref float d)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        for (; i < n; i++)
        {
            float ai = Unsafe.Add(ref a, i);
            s0 += ai * TLoad.Load1(ref b0, (nuint)i);
            s1 += ai * TLoad.Load1(ref b1, (nuint)i);
            s2 += ai * TLoad.Load1(ref b2, (nuint)i);
            s3 += ai * TLoad.Load1(ref b3, (nuint)i);
        }
        d = s0 * scale;
        Unsafe.Add(ref d, 1) = s1 * scale;
        Unsafe.Add(ref d, 2) = s2 * scale;
        Unsafe.Add(ref d, 3) = s3 * scale;
    }

    /// <summary>
    /// <see cref="Dot4{T, TLoad}"/> for three query vectors (a at a, a + aStride, a + 2·aStride) against the same four
    /// rows, into d, d + dStride and d + 2·dStride: each of the twelve dots with exactly Dot4's operations in its order
    /// (so the same bits), each row's 8 elements loaded and widened once for the three (a GQA group's query heads share
    /// their KV head's K rows: with a bf16 cache the widening was a third of a dot's work). 256-bit; where Vector512
    /// runs, three Dot4 calls. Refs unchecked, as Dot4's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot4x3<T, TLoad>(ref float a, int aStride, ref T b0, ref T b1, ref T b2, ref T b3, int n, float scale,
        ref float d, int dStride)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        ref float a1 = ref Unsafe.Add(ref a, aStride);
        ref float a2 = ref Unsafe.Add(ref a1, aStride);
        ref float d1 = ref Unsafe.Add(ref d, dStride);
        ref float d2 = ref Unsafe.Add(ref d1, dStride);
        if (Wide && n >= 16)
        {
            Dot4<T, TLoad>(ref a, ref b0, ref b1, ref b2, ref b3, n, scale, ref d);
            Dot4<T, TLoad>(ref a1, ref b0, ref b1, ref b2, ref b3, n, scale, ref d1);
            Dot4<T, TLoad>(ref a2, ref b0, ref b1, ref b2, ref b3, n, scale, ref d2);
            return;
        }
        int i = 0;
        // cHJ: query vector H, row J.
        Vector256<float> c00 = Vector256<float>.Zero, c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        Vector256<float> c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        for (; i + 8 <= n; i += 8)
        {
            nuint at = (nuint)i;
            var k = TLoad.Load8(ref b0, at);
            c00 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, at), k, c00);
            c10 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a1, at), k, c10);
            c20 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a2, at), k, c20);
            k = TLoad.Load8(ref b1, at);
            c01 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, at), k, c01);
            c11 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a1, at), k, c11);
            c21 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a2, at), k, c21);
            k = TLoad.Load8(ref b2, at);
            c02 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, at), k, c02);
            c12 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a1, at), k, c12);
            c22 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a2, at), k, c22);
            k = TLoad.Load8(ref b3, at);
            c03 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, at), k, c03);
            c13 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a1, at), k, c13);
            c23 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a2, at), k, c23);
        }
        // Every sum taken before the calls below: a vector live across a call can be kept in memory for the whole
        // method, the loop included (see DecodeStreamHints).
        float s00 = Vector256.Sum(c00), s01 = Vector256.Sum(c01), s02 = Vector256.Sum(c02), s03 = Vector256.Sum(c03);
        float s10 = Vector256.Sum(c10), s11 = Vector256.Sum(c11), s12 = Vector256.Sum(c12), s13 = Vector256.Sum(c13);
        float s20 = Vector256.Sum(c20), s21 = Vector256.Sum(c21), s22 = Vector256.Sum(c22), s23 = Vector256.Sum(c23);
        Dot4Tail<T, TLoad>(ref a, ref b0, ref b1, ref b2, ref b3, i, n, scale, s00, s01, s02, s03, ref d);
        Dot4Tail<T, TLoad>(ref a1, ref b0, ref b1, ref b2, ref b3, i, n, scale, s10, s11, s12, s13, ref d1);
        Dot4Tail<T, TLoad>(ref a2, ref b0, ref b1, ref b2, ref b3, i, n, scale, s20, s21, s22, s23, ref d2);
    }

    /// <summary>y += alpha · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length)
            throw new ArgumentException("y is shorter than x");
        Axpy<float, F32Elements>(alpha, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    /// <summary>y[0 .. n) += alpha · x, x's elements read as fp32: an FMA a lane where the vectors reach, a multiply
    /// then an add for the tail. Refs unchecked: the caller guarantees n elements behind each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy<T, TLoad>(float alpha, ref T x, ref float y, int n)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        int i = 0;
        if (Wide)
        {
            var va = Vector512.Create(alpha);
            for (; i + 16 <= n; i += 16)
                Vector512.FusedMultiplyAdd(va, TLoad.Load(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        }
        var vb = Vector256.Create(alpha);
        for (; i + 8 <= n; i += 8)
            Vector256.FusedMultiplyAdd(vb, TLoad.Load8(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref y, i) += alpha * TLoad.Load1(ref x, (nuint)i);
    }

    /// <summary>
    /// <see cref="Axpy{T, TLoad}"/> of four rows in turn (y += a0 · x0, then a1 · x1, a2 · x2, a3 · x3), with each
    /// element's operations in that order, so the same bits as four calls; y is loaded and stored once for the four.
    /// Refs unchecked: the caller guarantees n elements behind each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy4<T, TLoad>(float a0, float a1, float a2, float a3, ref T x0, ref T x1, ref T x2, ref T x3, ref float y, int n)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        int i = 0;
        Vector256<float> v0 = Vector256.Create(a0), v1 = Vector256.Create(a1), v2 = Vector256.Create(a2), v3 = Vector256.Create(a3);
        for (; i + 8 <= n; i += 8)
        {
            nuint at = (nuint)i;
            var acc = Vector256.FusedMultiplyAdd(v0, TLoad.Load8(ref x0, at), Vector256.LoadUnsafe(ref y, at));
            acc = Vector256.FusedMultiplyAdd(v1, TLoad.Load8(ref x1, at), acc);
            acc = Vector256.FusedMultiplyAdd(v2, TLoad.Load8(ref x2, at), acc);
            Vector256.FusedMultiplyAdd(v3, TLoad.Load8(ref x3, at), acc).StoreUnsafe(ref y, at);
        }
        for (; i < n; i++)
        {
            ref float yi = ref Unsafe.Add(ref y, i);
            yi += a0 * TLoad.Load1(ref x0, (nuint)i);
            yi += a1 * TLoad.Load1(ref x1, (nuint)i);
            yi += a2 * TLoad.Load1(ref x2, (nuint)i);
            yi += a3 * TLoad.Load1(ref x3, (nuint)i);
        }
    }

    /// <summary>
    /// <see cref="Axpy4{T, TLoad}"/> for three sums (y, y + yStride, y + 2·yStride) with their own four weights each
    /// (a[0 .. 4), a[aStride ..), a[2·aStride ..)) over the same four rows: each sum with exactly Axpy4's operations in
    /// its order (so the same bits), each row's 8 elements loaded and widened once for the three (a GQA group's query
    /// heads share their KV head's V rows). Refs unchecked, as Axpy4's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy4x3<T, TLoad>(ref float a, int aStride, ref T x0, ref T x1, ref T x2, ref T x3, ref float y, int yStride, int n)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        ref float a1 = ref Unsafe.Add(ref a, aStride);
        ref float a2 = ref Unsafe.Add(ref a1, aStride);
        ref float y1 = ref Unsafe.Add(ref y, yStride);
        ref float y2 = ref Unsafe.Add(ref y1, yStride);
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            nuint at = (nuint)i;
            var v0 = TLoad.Load8(ref x0, at);
            var v1 = TLoad.Load8(ref x1, at);
            var v2 = TLoad.Load8(ref x2, at);
            var v3 = TLoad.Load8(ref x3, at);
            Step(ref a, ref y, at, v0, v1, v2, v3);
            Step(ref a1, ref y1, at, v0, v1, v2, v3);
            Step(ref a2, ref y2, at, v0, v1, v2, v3);
        }
        if (i < n)
        {
            Axpy4<T, TLoad>(a, Unsafe.Add(ref a, 1), Unsafe.Add(ref a, 2), Unsafe.Add(ref a, 3), ref Unsafe.Add(ref x0, i), ref Unsafe.Add(ref x1, i),
                ref Unsafe.Add(ref x2, i), ref Unsafe.Add(ref x3, i), ref Unsafe.Add(ref y, i), n - i);
            Axpy4<T, TLoad>(a1, Unsafe.Add(ref a1, 1), Unsafe.Add(ref a1, 2), Unsafe.Add(ref a1, 3), ref Unsafe.Add(ref x0, i), ref Unsafe.Add(ref x1, i),
                ref Unsafe.Add(ref x2, i), ref Unsafe.Add(ref x3, i), ref Unsafe.Add(ref y1, i), n - i);
            Axpy4<T, TLoad>(a2, Unsafe.Add(ref a2, 1), Unsafe.Add(ref a2, 2), Unsafe.Add(ref a2, 3), ref Unsafe.Add(ref x0, i), ref Unsafe.Add(ref x1, i),
                ref Unsafe.Add(ref x2, i), ref Unsafe.Add(ref x3, i), ref Unsafe.Add(ref y2, i), n - i);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Step(ref float w, ref float y, nuint at, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3)
        {
            var acc = Vector256.FusedMultiplyAdd(Vector256.Create(w), v0, Vector256.LoadUnsafe(ref y, at));
            acc = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref w, 1)), v1, acc);
            acc = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref w, 2)), v2, acc);
            Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref w, 3)), v3, acc).StoreUnsafe(ref y, at);
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
        else if (n >= 8)
        {
            // 256 bits: eight lanes a step, as the 512-bit path (the scalar loop's NaN-aware Max took ~10 ops an element).
            var vm = Vector256.Create(float.NegativeInfinity);
            for (; i + 8 <= n; i += 8)
                vm = Vector256.Max(vm, Vector256.LoadUnsafe(ref xr, (nuint)i));
            for (int l = 0; l < 8; l++)
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
