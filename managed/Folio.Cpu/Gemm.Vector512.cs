using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>
/// The AVX-512 tiles of <see cref="Gemm"/> for several rows: 8 rows × 32 columns (16 Vector512 accumulators; each
/// 64-byte weight load serves 8 rows, each broadcast x serves 32 columns: 16 FMAs per 10 loads) and 4 × 32 for
/// the rows left over. Between k slices a tile's chains wait in a contiguous scratch of 32-float rows
/// (Rows512 in Gemm.cs), not in y. Each lane runs the same fused chain over k = 0, 1, … from zero, then + bias, as the 256-bit
/// tiles and <see cref="Gemm.Element"/>: the bits do not depend on which tile computed an element.
/// </summary>
internal static partial class Gemm
{
    /// <summary>Whether the 512-bit tiles run (a CPU with AVX-512 and a runtime that compiles Vector512 natively).</summary>
    internal static bool Wide => Vector512.IsHardwareAccelerated;

    private const int WideTileCols = 32;

    /// <summary>Stores acc (+ bias[c .. c + 15]) at y[at]. Unchecked on purpose: a call after the k loop (a span's range
    /// check, CopyTo) makes the JIT keep every accumulator in memory across the loop (all vector registers are
    /// caller-saved on x64 Unix), one store per FMA; <see cref="Gemm.Run"/> checks the lengths once instead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector512<float> acc, ref float y, int at, ref float bias, bool hasBias, int c)
    {
        if (hasBias)
            acc += Vector512.LoadUnsafe(ref bias, (nuint)c);
        acc.StoreUnsafe(ref y, (nuint)at);
    }

    /// <summary>Whether a tile prefetches the weights its row block reads next into L1 (<see cref="On"/>) and, further
    /// ahead, into L2 (<see cref="Far"/>); a type argument, so the JIT compiles each variant without the tests.</summary>
    internal interface IPrefetch
    {
        static abstract bool On { get; }

        static abstract bool Far { get; }
    }

    internal readonly struct Prefetch : IPrefetch
    {
        public static bool On => true;

        public static bool Far => false;
    }

    /// <summary>The row block of a GEMM that has only one (decode), which meets every weight in memory: into L1 one
    /// slice ahead, and into L2 <see cref="FarSlices"/> ahead.</summary>
    private readonly struct PrefetchFar : IPrefetch
    {
        public static bool On => true;

        public static bool Far => true;
    }

    internal readonly struct NoPrefetch : IPrefetch
    {
        public static bool On => false;

        public static bool Far => false;
    }

    /// <summary>Floats from a panel row of the slice at <paramref name="k0"/> to the same row of the slice
    /// <paramref name="ahead"/> slices on in a row block's walk (a 32-column tile's slices in k order, then the next
    /// tile's, two panels on). Prefetches are hints: one past the weight's end reads nothing and cannot fault.</summary>
    private static nuint SliceDistance(int k, int kBlock, int k0, int ahead)
    {
        int slices = (k + kBlock - 1) / kBlock, target = k0 / kBlock + ahead;
        return (nuint)((long)target / slices * 2 * k + (long)(target % slices) * kBlock - k0) * TileCols;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Ref(float[]? a) => ref a is null ? ref Unsafe.NullRef<float>() : ref MemoryMarshal.GetArrayDataReference(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) =>
        Vector512.FusedMultiplyAdd(x, w, acc);

    /// <summary>Rows r .. r + 7, columns c .. c + 31 (two whole panels), k in [k0, k1): from zero when k0 = 0, else
    /// continuing the chains from the partial sums a call for [.., k0) stored at <paramref name="part"/> (rows of 32
    /// floats; fp32 stored and reloaded exactly: the same bits as one pass); the sums (+ bias when k1 = k) go to
    /// <paramref name="dst"/>, rows <paramref name="dstStride"/> floats apart (y's row at column c, or part).
    /// With <typeparamref name="TPrefetch"/> on, the k steps in [pf0, pf1) each prefetch the same panel rows
    /// <paramref name="near"/> floats on (the slice the row block reads next) into L1, and with Far
    /// <paramref name="far"/> floats on into L2.</summary>
    private static unsafe void Tile8x32<TPrefetch>(float[] x, int r, int k, int k0, int k1, AlignedPanels<float> wt, int c, ref float part,
        ref float dst, int dstStride, float[]? bias, int pf0, int pf1, nuint near, nuint far)
        where TPrefetch : struct, IPrefetch
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref float wr = ref wt.Base;
        ref float br = ref Ref(bias);
        bool hb = bias is not null && k1 == k;
        nuint ks = (nuint)k;
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
        if (k0 > 0)
        {
            nuint at = 0, os = WideTileCols;
            a00 = Vector512.LoadUnsafe(ref part, at); a01 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a10 = Vector512.LoadUnsafe(ref part, at); a11 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a20 = Vector512.LoadUnsafe(ref part, at); a21 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a30 = Vector512.LoadUnsafe(ref part, at); a31 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a40 = Vector512.LoadUnsafe(ref part, at); a41 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a50 = Vector512.LoadUnsafe(ref part, at); a51 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a60 = Vector512.LoadUnsafe(ref part, at); a61 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a70 = Vector512.LoadUnsafe(ref part, at); a71 = Vector512.LoadUnsafe(ref part, at + 16);
        }
        nuint p0 = (nuint)(c / TileCols * k * TileCols) + (nuint)k0 * TileCols, p1 = p0 + ks * TileCols;
        for (nuint i = (nuint)k0; i < (nuint)k1; i++, p0 += TileCols, p1 += TileCols)
        {
            if (TPrefetch.On && i - (nuint)pf0 < (nuint)(pf1 - pf0))
            {
                // One 64-byte panel row of each panel per k of this tile's share: the next slice's same rows into L1,
                // and with Far the same rows of a later slice into L2.
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p0 + near)));
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p1 + near)));
                if (TPrefetch.Far)
                {
                    Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p0 + far)));
                    Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p1 + far)));
                }
            }
            var w0 = Vector512.LoadUnsafe(ref wr, p0);
            var w1 = Vector512.LoadUnsafe(ref wr, p1);
            ref float xi = ref Unsafe.Add(ref xr, i);
            var b = Vector512.Create(xi);
            a00 = Fma(b, w0, a00); a01 = Fma(b, w1, a01);
            b = Vector512.Create(Unsafe.Add(ref xi, ks));
            a10 = Fma(b, w0, a10); a11 = Fma(b, w1, a11);
            b = Vector512.Create(Unsafe.Add(ref xi, 2 * ks));
            a20 = Fma(b, w0, a20); a21 = Fma(b, w1, a21);
            b = Vector512.Create(Unsafe.Add(ref xi, 3 * ks));
            a30 = Fma(b, w0, a30); a31 = Fma(b, w1, a31);
            b = Vector512.Create(Unsafe.Add(ref xi, 4 * ks));
            a40 = Fma(b, w0, a40); a41 = Fma(b, w1, a41);
            b = Vector512.Create(Unsafe.Add(ref xi, 5 * ks));
            a50 = Fma(b, w0, a50); a51 = Fma(b, w1, a51);
            b = Vector512.Create(Unsafe.Add(ref xi, 6 * ks));
            a60 = Fma(b, w0, a60); a61 = Fma(b, w1, a61);
            b = Vector512.Create(Unsafe.Add(ref xi, 7 * ks));
            a70 = Fma(b, w0, a70); a71 = Fma(b, w1, a71);
        }
        int y0 = 0;
        Put(a00, ref dst, y0, ref br, hb, c); Put(a01, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a10, ref dst, y0, ref br, hb, c); Put(a11, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a20, ref dst, y0, ref br, hb, c); Put(a21, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a30, ref dst, y0, ref br, hb, c); Put(a31, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a40, ref dst, y0, ref br, hb, c); Put(a41, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a50, ref dst, y0, ref br, hb, c); Put(a51, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a60, ref dst, y0, ref br, hb, c); Put(a61, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a70, ref dst, y0, ref br, hb, c); Put(a71, ref dst, y0 + 16, ref br, hb, c + 16);
    }

    /// <summary>Rows r .. r + 3, columns c .. c + 31, k in [k0, k1) as <see cref="Tile8x32"/>.</summary>
    private static unsafe void Tile4x32<TPrefetch>(float[] x, int r, int k, int k0, int k1, AlignedPanels<float> wt, int c, ref float part,
        ref float dst, int dstStride, float[]? bias, int pf0, int pf1, nuint near, nuint far)
        where TPrefetch : struct, IPrefetch
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref float wr = ref wt.Base;
        ref float br = ref Ref(bias);
        bool hb = bias is not null && k1 == k;
        nuint ks = (nuint)k;
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        if (k0 > 0)
        {
            nuint at = 0, os = WideTileCols;
            a00 = Vector512.LoadUnsafe(ref part, at); a01 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a10 = Vector512.LoadUnsafe(ref part, at); a11 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a20 = Vector512.LoadUnsafe(ref part, at); a21 = Vector512.LoadUnsafe(ref part, at + 16); at += os;
            a30 = Vector512.LoadUnsafe(ref part, at); a31 = Vector512.LoadUnsafe(ref part, at + 16);
        }
        nuint p0 = (nuint)(c / TileCols * k * TileCols) + (nuint)k0 * TileCols, p1 = p0 + ks * TileCols;
        for (nuint i = (nuint)k0; i < (nuint)k1; i++, p0 += TileCols, p1 += TileCols)
        {
            if (TPrefetch.On && i - (nuint)pf0 < (nuint)(pf1 - pf0))
            {
                // One 64-byte panel row of each panel per k of this tile's share: the next slice's same rows into L1,
                // and with Far the same rows of a later slice into L2.
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p0 + near)));
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p1 + near)));
                if (TPrefetch.Far)
                {
                    Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p0 + far)));
                    Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p1 + far)));
                }
            }
            var w0 = Vector512.LoadUnsafe(ref wr, p0);
            var w1 = Vector512.LoadUnsafe(ref wr, p1);
            ref float xi = ref Unsafe.Add(ref xr, i);
            var b = Vector512.Create(xi);
            a00 = Fma(b, w0, a00); a01 = Fma(b, w1, a01);
            b = Vector512.Create(Unsafe.Add(ref xi, ks));
            a10 = Fma(b, w0, a10); a11 = Fma(b, w1, a11);
            b = Vector512.Create(Unsafe.Add(ref xi, 2 * ks));
            a20 = Fma(b, w0, a20); a21 = Fma(b, w1, a21);
            b = Vector512.Create(Unsafe.Add(ref xi, 3 * ks));
            a30 = Fma(b, w0, a30); a31 = Fma(b, w1, a31);
        }
        int y0 = 0;
        Put(a00, ref dst, y0, ref br, hb, c); Put(a01, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a10, ref dst, y0, ref br, hb, c); Put(a11, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a20, ref dst, y0, ref br, hb, c); Put(a21, ref dst, y0 + 16, ref br, hb, c + 16); y0 += dstStride;
        Put(a30, ref dst, y0, ref br, hb, c); Put(a31, ref dst, y0 + 16, ref br, hb, c + 16);
    }

    /// <summary>Row r, columns c .. c + 15 (one whole panel): decode's one-row tile, one 64-byte load and one FMA per k.
    /// A chunk's panels lie back to back, so decode, taking them one at a time, reads one sequential stream: in
    /// <c>bench/cpu_stream_model.c</c> on the Zen 4 VM this loop ran at 0.95–0.98× a plain sum's time, the former
    /// four-panel tile (four streams, each prefetched 16 rows ahead into L1) at 1.03–1.20× (bench/RESULTS.md). One
    /// chain per lane: a 4-cycle FMA step per 64 bytes is still several times what a core reads from memory. Where
    /// <see cref="DecodeStreamHints.On"/> it hints the stream <see cref="DecodeStreamHints.L2Ahead"/> bytes ahead into L2.</summary>
    private static unsafe void Tile1x16Wide(float[] x, int r, int k, AlignedPanels<float> wt, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref float wr = ref wt.Base;
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null, hint = DecodeStreamHints.On;
        nuint ks = (nuint)k;
        Vector512<float> a = default;
        nuint p = (nuint)(c / TileCols) * ks * TileCols;
        // Two loops, not a branch in one: with one FMA a line, the branch measured slower (decode-read 2 30 1 none,
        // fastest pass 16.8–19.6 ms against 15.5–16.5, 4 rounds alternated on the Intel VM).
        if (hint)
            for (nuint i = 0; i < ks; i++, p += TileCols)
            {
                Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p + DecodeStreamHints.L2Ahead / sizeof(float))));
                a = Fma(Vector512.Create(Unsafe.Add(ref xr, i)), Vector512.LoadUnsafe(ref wr, p), a);
            }
        else
            for (nuint i = 0; i < ks; i++, p += TileCols)
                a = Fma(Vector512.Create(Unsafe.Add(ref xr, i)), Vector512.LoadUnsafe(ref wr, p), a);
        Put(a, ref yr, r * o + c, ref br, hb, c);
    }
}
