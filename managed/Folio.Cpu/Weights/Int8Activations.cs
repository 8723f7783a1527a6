using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// The input rows of an int8/int4 MatMul quantized to int8: per group of 32 inputs for the int8 kernel
/// (<see cref="QuantizePerGroup"/>), per block of 256 for the k-quant kernels (<see cref="QuantizeWithKQuantSums"/>),
/// per row for the int4 kernel (<see cref="Quantize"/>): s[r] = max |x[r]| / 127 (over the block, for k-quants), q = round(x / s) in
/// [-127, 127], stored as the unsigned byte q + 128 (what vpdpbusd's unsigned operand takes), k zero-padded to
/// whole groups (padding stores 128, i.e. q = 0). With group sums asked for (the int4 kernel), also
/// <see cref="GroupSums"/>[r, g] = 8 · Σ_{i in g} q[r, i]: the int4 kernel multiplies q by the weights' unsigned
/// nibbles (their q + 8) and takes this back out. Reused across calls: a step allocates only when it needs more rows than
/// any before it.
/// </summary>
internal sealed class Int8Activations
{
    public byte[] Quants { get; private set; } = [];
    /// <summary>The same q as signed bytes (no + 128), same layout: the int4 AVX-VNNI kernel's signed operand,
    /// broadcast straight from memory.</summary>
    public sbyte[] Signed { get; private set; } = [];
    public float[] Scales { get; private set; } = [];
    /// <summary>[row, group]: after <c>Quantize(..., groupSums: true)</c>, 8 · Σ_{i in g} q (the int4 kernel's nibbles
    /// are q + 8); after <see cref="QuantizePerGroup"/>, −4 · Σ_{i in g} q as an int16 in both halves of the int32
    /// (<see cref="PairedInt16"/>): the int8 kernel's 512-bit tile starts its high-nibble int16 sums there.</summary>
    public int[] GroupSums { get; private set; } = [];
    /// <summary>[row, group], where the emitted tiles start their int32 sums: after <see cref="QuantizePerGroup"/>
    /// −128 · Σ_{i in g} q (<see cref="Int8EmittedTile"/> multiplies q by the weights' unsigned q + 128), after
    /// <c>Quantize(..., groupSums: true)</c> −8 · Σ_{i in g} q (<see cref="Int4EmittedTile"/>: the nibbles are q + 8).</summary>
    public int[] GroupOffsets { get; private set; } = [];
    /// <summary>Bytes per quantized row (k rounded up to whole groups).</summary>
    public int RowBytes { get; private set; }

    /// <summary>The per-row rule (<see cref="QuantizeSummed"/>), with <see cref="GroupSums"/> when
    /// <paramref name="groupSums"/> (the int4 kernel's input): each group's sum taken from the quantizer's registers.</summary>
    public void Quantize(float[] x, int rows, int k, bool groupSums = false)
    {
        var sums = QuantizeSummed(x, rows, k);
        if (!groupSums)
            return;
        int groups = RowBytes / Int8Weight.GroupSize;
        if (GroupSums.Length < rows * groups)
            GroupSums = new int[rows * groups];
        if (GroupOffsets.Length < rows * groups)
            GroupOffsets = new int[rows * groups];
        for (int i = 0; i < rows * groups; i++)
        {
            GroupSums[i] = 8 * (sums[2 * i] + sums[2 * i + 1]);
            GroupOffsets[i] = -GroupSums[i];
        }
    }

    /// <summary>
    /// <see cref="Quantize"/>'s rule with one scale per <see cref="KQuantSegment"/> inputs (a k-quant super-block, as
    /// llama.cpp's q8_K activations: <see cref="Scales"/>[row · k / 256 + block]) instead of one a row, with the k-quant
    /// sums (<see cref="PairedGroupSums"/> when <paramref name="q4k"/>, <see cref="Q6KOffsets"/> when
    /// <paramref name="q6k"/>) taken from the quantizer's registers (the k-quant kernels' input).
    /// </summary>
    public void QuantizeWithKQuantSums(float[] x, int rows, int k, bool q4k, bool q6k)
    {
        var sums = QuantizeSummed(x, rows, k, KQuantSegment);
        int per = RowBytes / 16;
        if (q6k)
        {
            if (Q6KOffsets.Length < rows * per)
                Q6KOffsets = new int[rows * per];
            for (int i = 0; i < rows * per; i++)
                Q6KOffsets[i] = -32 * sums[i];
        }
        if (q4k)
        {
            int pairs = RowBytes / 64;
            if (PairedGroupSums.Length < rows * pairs)
                PairedGroupSums = new int[rows * pairs];
            for (int r = 0; r < rows; r++)
                for (int p = 0; p < pairs; p++)
                {
                    int at = r * per + 4 * p, low = sums[at] + sums[at + 1], high = sums[at + 2] + sums[at + 3];
                    PairedGroupSums[r * pairs + p] = (low & 0xFFFF) | (high << 16);
                }
        }
    }

    /// <summary>Inputs per activation scale of <see cref="QuantizeWithKQuantSums"/>: a k-quant super-block, so each
    /// block's exact integer sums meet one activation scale (an outlier costs its block's precision, not the row's).</summary>
    public const int KQuantSegment = 256;

    /// <summary>[row, i]: Σ q over inputs 16i .. 16i + 15, the scratch of <see cref="QuantizeSummed"/>.</summary>
    private int[] _sums16 = [];

    /// <summary>
    /// The per-row rule of the class summary (<see cref="Quants"/>, <see cref="Signed"/>, <see cref="Scales"/>),
    /// each whole group of 32 quantized, stored (unsigned and signed) and summed while in registers; returns the sums of
    /// q per 16 inputs ([row, RowBytes / 16], padding q = 0). A row whose max |x| is below ~3.7e-37 quantizes to zeros,
    /// as in every quantizer here (<see cref="InverseScale"/>).
    /// </summary>
    private int[] QuantizeSummed(float[] x, int rows, int k, int segment = 0)
    {
        if (x.Length < (long)rows * k)
            throw new ArgumentException($"{x.Length} floats are not {rows} rows of {k}");
        int padded = (k + Int8Weight.GroupSize - 1) / Int8Weight.GroupSize * Int8Weight.GroupSize;
        int groups = padded / Int8Weight.GroupSize, whole = k / Int8Weight.GroupSize, per = padded / 16;
        if (Quants.Length < rows * padded)
        {
            Quants = new byte[rows * padded];
            Signed = new sbyte[rows * padded];
        }
        // One scale per segment of the row (the whole row by default; whole groups of 32 otherwise, the last segment
        // taking the rest).
        if (segment <= 0 || segment >= k)
            segment = k;
        else if (segment % Int8Weight.GroupSize != 0)
            throw new ArgumentException($"a scale segment of {segment} inputs is not whole groups of {Int8Weight.GroupSize}");
        int segments = (k + segment - 1) / segment, groupsPerSegment = (segment + Int8Weight.GroupSize - 1) / Int8Weight.GroupSize;
        ScaleSegment = segment;
        _segments = segments;
        if (Scales.Length < rows * segments)
            Scales = new float[rows * segments];
        if (_sums16.Length < rows * per)
            _sums16 = new int[rows * per];
        RowBytes = padded;
        PerGroup = false;
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref byte qr = ref MemoryMarshal.GetArrayDataReference(Quants);
        ref sbyte sr = ref MemoryMarshal.GetArrayDataReference(Signed);
        ref int hr = ref MemoryMarshal.GetArrayDataReference(_sums16);
        for (int r = 0; r < rows; r++)
        for (int seg = 0; seg < segments; seg++)
        {
            var row = x.AsSpan(r * k, k);
            int g0 = seg * groupsPerSegment, g1 = Math.Min(groups, g0 + groupsPerSegment);
            int s0 = seg * segment, s1 = Math.Min(k, s0 + segment);
            float scale = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row[s0..s1])) / 127f;
            float inverse = InverseScale(scale);
            Scales[r * segments + seg] = scale;
            int g = g0;
            if (inverse != 0f && Avx2.IsSupported)
            {
                // Whole groups: every element is finite here (|x| ≤ max |x|, a finite nonzero), as Quantize8 needs.
                var inv = Vector256.Create(inverse);
                for (; g < Math.Min(whole, g1); g++)
                {
                    ref float xg = ref Unsafe.Add(ref xr, r * k + g * Int8Weight.GroupSize);
                    var a = Quantize8(Vector256.LoadUnsafe(ref xg), inv);
                    var b = Quantize8(Vector256.LoadUnsafe(ref xg, 8), inv);
                    var c = Quantize8(Vector256.LoadUnsafe(ref xg, 16), inv);
                    var d = Quantize8(Vector256.LoadUnsafe(ref xg, 24), inv);
                    var bytes = Vector256.Narrow(Vector256.Narrow(a, b), Vector256.Narrow(c, d));
                    nuint at = (nuint)(r * padded + g * Int8Weight.GroupSize);
                    bytes.StoreUnsafe(ref qr, at);
                    (bytes ^ Vector256.Create((byte)0x80)).AsSByte().StoreUnsafe(ref sr, at);
                    // Σ (q + 128) over each 16 lanes, less 16 · 128.
                    Unsafe.Add(ref hr, r * per + 2 * g) = (int)Vector256.Sum(a + b) - 16 * 128;
                    Unsafe.Add(ref hr, r * per + 2 * g + 1) = (int)Vector256.Sum(c + d) - 16 * 128;
                }
            }
            // The rest (a partial last group, a zero or non-finite row, or no AVX2): the rule element by element.
            for (; g < g1; g++)
            {
                int k0 = g * Int8Weight.GroupSize, n = Math.Min(k, k0 + Int8Weight.GroupSize) - k0;
                var q = Quants.AsSpan(r * padded + k0, Int8Weight.GroupSize);
                int low = 0, high = 0;
                for (int i = 0; i < n; i++)
                {
                    int v = inverse == 0f ? 0 : (int)Math.Clamp(MathF.Round(row[k0 + i] * inverse), -127f, 127f);
                    q[i] = (byte)(v + 128);
                    if (i < 16)
                        low += v;
                    else
                        high += v;
                }
                q[n..].Fill(128);
                System.Numerics.Tensors.TensorPrimitives.Xor(q, (byte)0x80, MemoryMarshal.AsBytes(Signed.AsSpan(r * padded + k0, Int8Weight.GroupSize)));
                _sums16[r * per + 2 * g] = low;
                _sums16[r * per + 2 * g + 1] = high;
            }
        }
        return _sums16;
    }

    /// <summary>[row, group]: the scale of each group of 32 inputs after <see cref="QuantizePerGroup"/> (then
    /// <see cref="Scales"/> is not written); <see cref="PerGroup"/> says which of the two the last call filled.</summary>
    public float[] GroupScales { get; private set; } = [];
    /// <summary>True after <see cref="QuantizePerGroup"/>, false after <see cref="Quantize"/>.</summary>
    public bool PerGroup { get; private set; }

    /// <summary>
    /// The rows quantized with one scale per group of 32 inputs (llama.cpp's q8_0 activation grouping, here with an
    /// fp32 scale): s[r, g] = max |x[r, g·32 ..]| / 127, q = round(x / s[r, g]) in [-127, 127], stored + 128 in
    /// <see cref="Quants"/> and signed in <see cref="Signed"/>, the padding q = 0 (so a padded group's scale is that
    /// of its real inputs). An outlier costs only its own group's precision, not the whole row's. With
    /// <see cref="GroupSums"/> = <see cref="PairedInt16"/>(−4 · Σ q) per group, Σ q taken from the quantizer's registers.
    /// </summary>
    public void QuantizePerGroup(float[] x, int rows, int k, ParallelRunner? runner = null)
    {
        if (x.Length < (long)rows * k)
            throw new ArgumentException($"{x.Length} floats are not {rows} rows of {k}");
        int padded = (k + Int8Weight.GroupSize - 1) / Int8Weight.GroupSize * Int8Weight.GroupSize;
        int groups = padded / Int8Weight.GroupSize;
        if (Quants.Length < rows * padded)
        {
            Quants = new byte[rows * padded];
            Signed = new sbyte[rows * padded];
        }
        if (GroupScales.Length < rows * groups)
            GroupScales = new float[rows * groups];
        if (GroupSums.Length < rows * groups)
            GroupSums = new int[rows * groups];
        if (GroupOffsets.Length < rows * groups)
            GroupOffsets = new int[rows * groups];
        RowBytes = padded;
        PerGroup = true;
        // Rows are independent: with a runner, one run of rows a thread (a 32-row decode step's 32 × 768 took ~12.6 µs
        // on one Zen 4 core, the GEMM's other thread waiting; each row's bytes are the same whichever thread runs it).
        int chunks = runner is null ? 1 : Math.Min(rows, runner.Threads);
        if (chunks <= 1)
        {
            QuantizeRowsPerGroup(x, k, 0, rows);
            return;
        }
        runner!.For(chunks, (long)rows * k * QuantizeWorkPerValue, new RowChunks(this, x, rows, k, chunks), static (j, c) =>
            j.Activations.QuantizeRowsPerGroup(j.X, j.K, j.Rows * c / j.Chunks, j.Rows * (c + 1) / j.Chunks));
    }

    /// <summary>Rough operations per input value of the per-group quantizer, the work a runner weighs.</summary>
    private const long QuantizeWorkPerValue = 4;

    private readonly record struct RowChunks(Int8Activations Activations, float[] X, int Rows, int K, int Chunks);

    /// <summary>Rows r0 .. r1 − 1 by the rule of <see cref="QuantizePerGroup"/> (the buffers sized already).</summary>
    private void QuantizeRowsPerGroup(float[] x, int k, int r0, int r1)
    {
        int padded = RowBytes, groups = padded / Int8Weight.GroupSize;
        int whole = k / Int8Weight.GroupSize;
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref byte qr = ref MemoryMarshal.GetArrayDataReference(Quants);
        ref sbyte sr = ref MemoryMarshal.GetArrayDataReference(Signed);
        ref float gr = ref MemoryMarshal.GetArrayDataReference(GroupScales);
        ref int sums = ref MemoryMarshal.GetArrayDataReference(GroupSums);
        ref int offsets = ref MemoryMarshal.GetArrayDataReference(GroupOffsets);
        bool wide = Vector512.IsHardwareAccelerated;
        for (int r = r0; r < r1; r++)
        {
            // Whole groups: straight-line vector code over unchecked refs (the extents are checked above).
            for (int g = 0; g < whole; g++)
            {
                nuint at = (nuint)(r * padded + g * Int8Weight.GroupSize);
                ref float xg = ref Unsafe.Add(ref xr, r * k + g * Int8Weight.GroupSize);
                int sum;
                Unsafe.Add(ref gr, r * groups + g) = wide
                    ? QuantizeGroup32Wide(ref xg, ref Unsafe.Add(ref qr, at), ref Unsafe.Add(ref sr, at), out sum)
                    : QuantizeGroup32(ref xg, ref Unsafe.Add(ref qr, at), ref Unsafe.Add(ref sr, at), out sum);
                Unsafe.Add(ref sums, r * groups + g) = PairedInt16(-4 * sum);
                Unsafe.Add(ref offsets, r * groups + g) = -128 * sum;
            }
            if (whole < groups)
            {
                // The last, partial group: the same rule element by element, padding q = 0.
                int k0 = whole * Int8Weight.GroupSize, n = k - k0;
                var part = x.AsSpan(r * k + k0, n);
                float amax = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(part));
                float scale = amax / 127f;
                float inverse = InverseScale(scale);
                GroupScales[r * groups + whole] = scale;
                var qg = Quants.AsSpan(r * padded + k0, Int8Weight.GroupSize);
                int sum = 0;
                for (int i = 0; i < n; i++)
                {
                    int v = (int)Math.Clamp(MathF.Round(part[i] * inverse), -127f, 127f);
                    qg[i] = (byte)(v + 128);
                    sum += v;
                }
                qg[n..].Fill(128);
                GroupSums[r * groups + whole] = PairedInt16(-4 * sum);
                GroupOffsets[r * groups + whole] = -128 * sum;
                System.Numerics.Tensors.TensorPrimitives.Xor(qg, (byte)0x80, MemoryMarshal.AsBytes(Signed.AsSpan(r * padded + k0, Int8Weight.GroupSize)));
            }
        }
    }

    /// <summary>One whole group of 32 by the per-group rule: writes its 32 bytes (+ 128) and their signed copy, returns
    /// its scale and (<paramref name="sum"/>) Σ q. max |x| by vmaxps (MaxNative: no NaN handling, so a NaN is looked for apart: a group holding one
    /// gets a NaN scale and quantizes to zeros, as a NaN row does); then the same multiply, round to nearest even,
    /// clamp and convert as the scalar rule, lane by lane (every value is finite there), so the same bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float QuantizeGroup32(ref float x, ref byte q, ref sbyte signed, out int sum)
    {
        var v0 = Vector256.LoadUnsafe(ref x);
        var v1 = Vector256.LoadUnsafe(ref x, 8);
        var v2 = Vector256.LoadUnsafe(ref x, 16);
        var v3 = Vector256.LoadUnsafe(ref x, 24);
        var m = Vector256.MaxNative(Vector256.MaxNative(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.MaxNative(Vector256.Abs(v2), Vector256.Abs(v3)));
        var h = Vector128.MaxNative(m.GetLower(), m.GetUpper());
        h = Vector128.MaxNative(h, Vector128.Shuffle(h, Vector128.Create(2, 3, 0, 1)));
        h = Vector128.MaxNative(h, Vector128.Shuffle(h, Vector128.Create(1, 0, 3, 2)));
        float amax = h.ToScalar();
        var ordered = Vector256.Equals(v0, v0) & Vector256.Equals(v1, v1) & Vector256.Equals(v2, v2) & Vector256.Equals(v3, v3);
        if (!Vector256.EqualsAll(ordered.AsInt32(), Vector256<int>.AllBitsSet))
            amax = float.NaN;
        float scale = amax / 127f;
        Vector256<byte> bytes;
        float inverse = InverseScale(scale);
        if (inverse == 0f)
        {
            bytes = Vector256.Create((byte)128);
        }
        else
        {
            var inv = Vector256.Create(inverse);
            bytes = Vector256.Narrow(Vector256.Narrow(Quantize8(v0, inv), Quantize8(v1, inv)), Vector256.Narrow(Quantize8(v2, inv), Quantize8(v3, inv)));
        }
        bytes.StoreUnsafe(ref q);
        (bytes ^ Vector256.Create((byte)0x80)).AsSByte().StoreUnsafe(ref signed);
        // Σ (q + 128) (at most 32 · 255: the 16-bit lanes hold it), less 32 · 128.
        var (low, high) = Vector256.Widen(bytes);
        sum = Vector256.Sum(low + high) - 32 * 128;
        return scale;
    }

    /// <summary><see cref="QuantizeGroup32"/> in two 512-bit halves: the same max, scale, multiply, rounding, clamp and
    /// conversion lane by lane, so the same bytes; the int32 q narrowed by vpmovdb (they lie in [-127, 127]) and
    /// summed as int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float QuantizeGroup32Wide(ref float x, ref byte q, ref sbyte signed, out int sum)
    {
        var v0 = Vector512.LoadUnsafe(ref x);
        var v1 = Vector512.LoadUnsafe(ref x, 16);
        var m = Vector512.MaxNative(Vector512.Abs(v0), Vector512.Abs(v1));
        var m8 = Vector256.MaxNative(m.GetLower(), m.GetUpper());
        var h = Vector128.MaxNative(m8.GetLower(), m8.GetUpper());
        h = Vector128.MaxNative(h, Vector128.Shuffle(h, Vector128.Create(2, 3, 0, 1)));
        h = Vector128.MaxNative(h, Vector128.Shuffle(h, Vector128.Create(1, 0, 3, 2)));
        float amax = Vector512.EqualsAll(v0, v0) && Vector512.EqualsAll(v1, v1) ? h.ToScalar() : float.NaN;
        float scale = amax / 127f;
        float inverse = InverseScale(scale);
        Vector512<int> i0 = default, i1 = default;
        if (inverse != 0f)
        {
            var inv = Vector512.Create(inverse);
            i0 = Vector512.ConvertToInt32(Vector512.MinNative(Vector512.MaxNative(Vector512.Round(v0 * inv), Vector512.Create(-127f)), Vector512.Create(127f)));
            i1 = Vector512.ConvertToInt32(Vector512.MinNative(Vector512.MaxNative(Vector512.Round(v1 * inv), Vector512.Create(-127f)), Vector512.Create(127f)));
        }
        var bytes = Vector256.Create(Avx512F.ConvertToVector128SByte(i0), Avx512F.ConvertToVector128SByte(i1));
        bytes.StoreUnsafe(ref signed);
        (bytes.AsByte() ^ Vector256.Create((byte)0x80)).StoreUnsafe(ref q);
        sum = Vector512.Sum(i0 + i1);
        return scale;
    }

    /// <summary><paramref name="value"/> (|value| ≤ 4 · 32 · 127 &lt; 2^15) as an int16 in both halves of an int32: one
    /// 32-bit broadcast then puts it in every int16 lane.</summary>
    internal static int PairedInt16(int value) => (int)((uint)(ushort)value * 0x10001u);

    /// <summary>
    /// 1 / scale, or 0 (every q of the row or group is then 0) where the scale is 0, NaN or infinite, or so small
    /// (max |x| below ~3.7e-37, a subnormal scale) that 1 / scale overflows: x · ∞ would be NaN for the zeros
    /// (q = −127 by the vector clamp, garbage by the scalar one) and ±127 for the rest, values that small dequantize
    /// to 0 at fp32's resolution anyway. One rule for every quantizer here, vector and scalar paths alike.
    /// </summary>
    internal static float InverseScale(float scale)
    {
        if (scale == 0f || !float.IsFinite(scale))
            return 0f;
        float inverse = 1f / scale;
        return float.IsFinite(inverse) ? inverse : 0f;
    }

    /// <summary>round(v · inverse) clamped to [-127, 127], + 128, for finite v (MinNative/MaxNative then agree with the
    /// scalar Math.Clamp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Quantize8(Vector256<float> v, Vector256<float> inverse) =>
        Vector256.ConvertToInt32(Vector256.MinNative(Vector256.MaxNative(Vector256.Round(v * inverse), Vector256.Create(-127f)), Vector256.Create(127f))).AsUInt32()
        + Vector256.Create(128u);

    /// <summary>[row, i]: −32 · Σ q over inputs 16i .. 16i + 15, for the Q6_K tiles, which multiply the stored
    /// q + 32 and start each sub-block's sum from this. Filled by <see cref="QuantizeWithKQuantSums"/>.</summary>
    public int[] Q6KOffsets { get; private set; } = [];

    /// <summary>[row, k]: Σ q over group 2k in the low int16 and over group 2k + 1 in the high (|Σ| ≤ 32 · 127), for the
    /// Q4_K tiles' mins (one vpmaddwd against the pair of 6-bit mins). Filled by <see cref="QuantizeWithKQuantSums"/>.</summary>
    public int[] PairedGroupSums { get; private set; } = [];

    /// <summary>Inputs per entry of <see cref="Scales"/> after the per-row rules: the row's length, or
    /// <see cref="KQuantSegment"/> after <see cref="QuantizeWithKQuantSums"/>.</summary>
    public int ScaleSegment { get; private set; }

    private int _segments = 1;

    /// <summary>The dequantized activation s · q (the tests' reference), per row (or segment) or per group as last quantized.</summary>
    public float Dequantized(int r, int i) =>
        (PerGroup ? GroupScales[r * (RowBytes / Int8Weight.GroupSize) + i / Int8Weight.GroupSize] : Scales[r * _segments + i / ScaleSegment])
        * (Quants[r * RowBytes + i] - 128);
}
