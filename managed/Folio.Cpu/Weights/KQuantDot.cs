using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// One output of a k-quant GEMM: Σ over a weight row's super-blocks of its dequantized weights times x_q, the
/// row's int8 activations (<see cref="Int8Activations"/>, signed), before the activation scale. Integer sums are
/// exact; per super-block they are converted to fp32 and folded in by FMA with the block's fp16 scale(s) into
/// eight fp32 lanes, summed at the end (<see cref="Vector256.Sum{T}"/>): the same instructions whatever the batch,
/// tile or thread, so a row's result does not depend on them.
/// Q4_K (w = d · sc_j · q − dmin · m_j, sub-block j of 32, q a nibble): the nibbles are unpacked in registers (a
/// mask and a 16-bit shift) and multiplied with x_q by vpmaddubsw (unsigned × signed pairs to int16, ≤ 2 · 15 · 127),
/// then widened and scaled by sc_j in one step: vpdpwssd (AVX-VNNI) or vpmaddwd + add (AVX2), lanes ≤ 8 · 4 · 15 · 127
/// · 63 &lt; 2^24, so exact in fp32; the mins term is m_j · Σ_{i in j} x_q from the activations' group sums.
/// Q6_K (w = d · sc_j · (q − 32), sub-block j of 16, q 6 bits): q is assembled from a nibble and 2 high bits and
/// multiplied as stored (0..63, pair sums ≤ 2 · 63 · 127), scaled by the two int8 sub-block scales of each 32 values
/// in one vpdpwssd / vpmaddwd; the − 32 is taken out once per block and row as 32 · Σ_j sc_j · Σ_{i in j} x_q
/// (the activations' sums of 16, <see cref="Int8Activations.Sums16"/>).
/// </summary>
internal static class KQuantDot
{
    private const float TwoTo112 = 5.192296858534828E+33f;   // 2^112

    /// <summary>fp16 bits to fp32 for finite values (normals, subnormals, zero; <see cref="KQuantWeight"/> refuses
    /// Inf/NaN scales at load): the magnitude shifted into place and rebiased by 2^112, the sign OR-ed back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float HalfToSingle(uint h) =>
        BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle((h & 0x7FFF) << 13) * TwoTo112)
            | ((h & 0x8000) << 16));

    /// <summary>Q4_K's twelve bytes of 6-bit scales and mins as four words of bytes: scales 0-3, 4-7, mins 0-3, 4-7
    /// (ggml's kmask unpacking).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (uint Sc03, uint Sc47, uint M03, uint M47) Q4KScales(ref byte block)
    {
        uint u0 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 4));
        uint u1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 8));
        uint u2 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 12));
        return (u0 & 0x3F3F3F3F,
            (u2 & 0x0F0F0F0F) | (((u0 >> 6) & 0x03030303) << 4),
            u1 & 0x3F3F3F3F,
            ((u2 >> 4) & 0x0F0F0F0F) | (((u1 >> 6) & 0x03030303) << 4));
    }

    /// <summary>Q4_K row (<paramref name="blocks"/> super-blocks at <paramref name="w"/>) · x_q; <paramref name="sums"/>
    /// are the activation row's 8 · Σ x_q per group of 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Q4K(ref byte w, int blocks, ref sbyte x, ref int sums)
    {
        // Two fp32 chains (scales, mins) and four int32 ones (one per 64 weights): a single chain would wait on
        // vpdpwssd's latency eight times a super-block. Combined in a fixed order, so the result is still one function
        // of the row's values.
        var accD = Vector256<float>.Zero;
        var accM = Vector256<float>.Zero;
        var low = Vector256.Create((byte)0x0F);
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref w, b * KQuantFormats.Q4KBlockBytes);
            uint dd = Unsafe.ReadUnaligned<uint>(ref block);
            float d = HalfToSingle(dd), dmin = HalfToSingle(dd >> 16);
            var (sc03, sc47, m03, m47) = Q4KScales(ref block);
            ref sbyte xb = ref Unsafe.Add(ref x, b * 256);
            var i0 = Chunk(ref Unsafe.Add(ref block, 16), ref xb, (short)(sc03 & 0xFF), (short)((sc03 >> 8) & 0xFF), low);
            var i1 = Chunk(ref Unsafe.Add(ref block, 48), ref Unsafe.Add(ref xb, 64), (short)((sc03 >> 16) & 0xFF), (short)(sc03 >> 24), low);
            var i2 = Chunk(ref Unsafe.Add(ref block, 80), ref Unsafe.Add(ref xb, 128), (short)(sc47 & 0xFF), (short)((sc47 >> 8) & 0xFF), low);
            var i3 = Chunk(ref Unsafe.Add(ref block, 112), ref Unsafe.Add(ref xb, 192), (short)((sc47 >> 16) & 0xFF), (short)(sc47 >> 24), low);
            accD = MulAdd(Avx.ConvertToVector256Single((i0 + i1) + (i2 + i3)), Vector256.Create(d), accD);
            var mins = Avx2.ConvertToVector256Int32(Vector128.Create(m03, m47, 0u, 0u).AsByte());
            var xs = Avx2.ShiftRightArithmetic(Vector256.LoadUnsafe(ref Unsafe.Add(ref sums, b * 8)), 3);
            accM = MulAdd(Avx.ConvertToVector256Single(Avx2.MultiplyLow(mins, xs)), Vector256.Create(dmin), accM);
        }
        return Vector256.Sum(accD - accM);
    }

    /// <summary>32 bytes of Q4_K nibbles: sub-block 2c in the low nibbles, 2c + 1 in the high, against their 64 x_q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Chunk(ref byte nibbles, ref sbyte x, short scLow, short scHigh, Vector256<byte> mask)
    {
        var raw = Vector256.LoadUnsafe(ref nibbles);
        var lo = raw & mask;
        var hi = Avx2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & mask;
        var p0 = Avx2.MultiplyAddAdjacent(lo, Vector256.LoadUnsafe(ref x));
        var p1 = Avx2.MultiplyAddAdjacent(hi, Vector256.LoadUnsafe(ref Unsafe.Add(ref x, 32)));
        return ScaleAdd(Vector256<int>.Zero, p0, Vector256.Create(scLow)) + ScaleAdd(Vector256<int>.Zero, p1, Vector256.Create(scHigh));
    }

    /// <summary>isum + Σ adjacent pairs of p · scale, widened to int32: vpdpwssd where AVX-VNNI runs, else vpmaddwd + add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaleAdd(Vector256<int> isum, Vector256<short> p, Vector256<short> scale) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(isum, p, scale) : isum + Avx2.MultiplyAddAdjacent(p, scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    /// <summary>Q6_K row · x_q (no group sums needed: the − 32 is taken out with the products).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Q6K(ref byte w, int blocks, ref sbyte x, ref short sums16)
    {
        var acc = Vector256<float>.Zero;
        var low = Vector256.Create((byte)0x0F);
        var high = Vector256.Create((byte)0x30);
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref w, b * KQuantFormats.Q6KBlockBytes);
            float d = HalfToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, 208)));
            ref sbyte sc = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 192));
            ref sbyte xb = ref Unsafe.Add(ref x, b * 256);
            // One int32 chain per 32 values of a half (four), as in Q4K, added in a fixed order.
            var i0 = Vector256<int>.Zero;
            var i1 = Vector256<int>.Zero;
            var i2 = Vector256<int>.Zero;
            var i3 = Vector256<int>.Zero;
            for (int h = 0; h < 2; h++)
            {
                var ql0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 64 * h));
                var ql1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 64 * h + 32));
                var qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 128 + 32 * h)).AsUInt16();
                ref sbyte xh = ref Unsafe.Add(ref xb, 128 * h);
                ref sbyte sh = ref Unsafe.Add(ref sc, 8 * h);
                i0 = Six(i0, (ql0 & low) | (Avx2.ShiftLeftLogical(qh, 4).AsByte() & high), ref xh, ref sh);
                i1 = Six(i1, (ql1 & low) | (Avx2.ShiftLeftLogical(qh, 2).AsByte() & high), ref Unsafe.Add(ref xh, 32), ref Unsafe.Add(ref sh, 2));
                i2 = Six(i2, (Avx2.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & low) | (qh.AsByte() & high), ref Unsafe.Add(ref xh, 64), ref Unsafe.Add(ref sh, 4));
                i3 = Six(i3, (Avx2.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & low) | (Avx2.ShiftRightLogical(qh, 2).AsByte() & high), ref Unsafe.Add(ref xh, 96), ref Unsafe.Add(ref sh, 6));
            }
            var isum = (i0 + i1) + (i2 + i3) - Q6KOffset(ref sc, ref Unsafe.Add(ref sums16, b * 16));
            acc = MulAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(d), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>32 values q (0..63, i.e. q − 32 stored + 32) against 32 x_q, scaled by sc[0] (first 16) and sc[1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Six(Vector256<int> isum, Vector256<byte> q, ref sbyte x, ref sbyte sc)
    {
        var p = Avx2.MultiplyAddAdjacent(q, Vector256.LoadUnsafe(ref x));
        var scale = Vector256.Create(Vector128.Create((short)sc), Vector128.Create((short)Unsafe.Add(ref sc, 1)));
        return ScaleAdd(isum, p, scale);
    }

    /// <summary>What the + 32 of the stored values added: 32 · Σ_j sc_j · Σ_{i in j} x_q over the block's 16 sub-blocks,
    /// as 8 int32 lanes (sc_{2k} · X_{2k} + sc_{2k+1} · X_{2k+1}, then · 32), from the activations' sums of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Q6KOffset(ref sbyte sc, ref short sums16) =>
        Avx2.ShiftLeftLogical(Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref sc)), Vector256.LoadUnsafe(ref sums16)), 5);
}
