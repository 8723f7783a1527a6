using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Folio.Core.Compute;
using Folio.Cpu.Weights;

namespace Folio.Cpu;

/// <summary>
/// The CPU backend: managed kernels (Vector512 where AVX-512 runs, Vector256 otherwise; int8/int4/k-quant tiles
/// emitted as AVX-512 VNNI code where the CPU has it) over MatMul weights kept as fp32 panels, 16-bit panels or
/// exponent-coded bf16 (fp32 FMA chains), or as int8/int4 groups or GGUF k-quant blocks (int8 dot products against
/// the activations quantized to int8 at each MatMul), multi-threaded over independent outputs.
/// Every op computes each output row from its own input row in a fixed order (batch invariance). The ops that
/// read the step's metadata, the KV cache and sampling are in CpuBackend.Step.cs, the element-wise ones in
/// CpuBackend.Elementwise.cs.
/// </summary>
public sealed partial class CpuBackend : IComputeBackend
{
    private readonly ParallelRunner _runner;
    private readonly Int8Activations _int8Scratch = new();
    /// <summary>x split into even/odd elements for <see cref="Bf16RowGemm"/>; grows to the largest step, then is reused.</summary>
    private float[] _splitScratch = [];

    /// <param name="mapWeights">Read bf16 checkpoint weights and the embedding table through the file's mapping (the
    /// default: no fp32 copy at load); false reads them into fp32 first, then packs bf16 weights into 16-bit panels
    /// (<see cref="HalfWeight"/>: the fp32 path's bits) and keeps the table in fp32.</param>
    /// <param name="packMappedBf16">With <paramref name="mapWeights"/>, whether a mapped bf16 weight is packed into
    /// <see cref="HalfWeight"/> panels straight from the mapping (its pages then released: resident memory stays one
    /// bf16 copy) or used in place by <see cref="Bf16RowGemm"/>. Null (the default): packed wherever the vector tiles
    /// run (AVX2 or AVX-512), which make the panels faster at every batch size; in place only on a CPU with neither, where
    /// the row-major dot products are no slower. On an AVX2-only Zen 3 the in-place kernel's Vector512 runs in software:
    /// b8 bf16 batch 1 at 0.58× the packed panels' tok/s (bench/RESULTS.md, twentieth session).</param>
    /// <param name="codeBf16">Whether bf16 weights in panels are kept as <see cref="CodedBf16Weight"/> (12 bits a
    /// value, losslessly: the same bits out, 0.75 × the bytes for a decode step to read). Null (the default): where
    /// AVX-512 BW decodes them (<see cref="CodedBf16Weight.IsSupported"/>).</param>
    /// <param name="kvCacheType">The KV cache's element type: F32 (the default; exact) or BF16 (half the bytes for
    /// attention to read, K and V rounded to nearest even; the one-pass kernel reads it where AVX-512 runs, the two-pass one elsewhere).</param>
    public CpuBackend(int threads = 0, WeightQuantization quantization = WeightQuantization.None, bool mapWeights = true,
        bool? packMappedBf16 = null, DType kvCacheType = DType.F32, bool? codeBf16 = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        RequireKvType(kvCacheType, nameof(kvCacheType));
        _runner = new ParallelRunner(threads == 0 ? Environment.ProcessorCount : threads);
        Quantization = quantization;
        KvCacheType = kvCacheType;
        MapWeights = mapWeights;
        PackMappedBf16 = packMappedBf16 ?? Vector256.IsHardwareAccelerated;
        if (codeBf16 == true && !CodedBf16Weight.IsSupported)
            throw new ArgumentException("exponent-coded bf16 weights need AVX-512 BW, which this CPU (or runtime) lacks", nameof(codeBf16));
        CodeBf16 = codeBf16 ?? CodedBf16Weight.IsSupported;
    }

    /// <summary>Whether this machine decodes exponent-coded bf16 weights (what <c>codeBf16: null</c> picks).</summary>
    public static bool CodesBf16OnThisMachine => CodedBf16Weight.IsSupported;

    /// <summary>Whether bf16 weights in panels are exponent-coded (<see cref="CodedBf16Weight"/>).</summary>
    public bool CodeBf16 { get; }

    /// <summary>Whether bf16 checkpoint weights are read through the file's mapping (<see cref="UploadMappedWeight"/>).</summary>
    public bool MapWeights { get; }

    /// <summary>Whether a mapped bf16 weight is packed into <see cref="HalfWeight"/> panels (else used in place).</summary>
    public bool PackMappedBf16 { get; }

    /// <summary>The element type of the KV caches this backend's models allocate.</summary>
    public DType KvCacheType { get; }

    /// <summary>The KV element types the kernels here read: F32, and BF16 (where the one-pass attention runs, checked
    /// with the head size in <see cref="AllocateKvCache"/>).</summary>
    private static void RequireKvType(DType dtype, string parameter)
    {
        if (dtype is not (DType.F32 or DType.BF16))
            throw new ArgumentException($"the CPU backend keeps the KV cache in F32 or BF16, not {dtype}", parameter);
    }

    public string Name => $"cpu ({_runner.Threads} threads)";
    public int Threads => _runner.Threads;

    /// <summary>How MatMul weights are stored: the checkpoint's precision (None) or quantized at upload.</summary>
    public WeightQuantization Quantization { get; }

    /// <summary>Bytes of every MatMul weight uploaded so far, as stored (scales included): what a decode step reads.</summary>
    public long WeightBytes { get; private set; }

    /// <summary>The MatMul weight formats uploaded so far and the kernel each runs on (for bench reports).</summary>
    public IReadOnlySet<string> WeightKernels => _kernels;

    private readonly HashSet<string> _kernels = [];

    public DeviceTensor Allocate(int rows, int cols) => new CpuTensor(new float[checked(rows * cols)], rows, cols);

    public DeviceTensor Upload(ReadOnlySpan<float> data, int rows, int cols)
    {
        if (data.Length != checked(rows * cols))
            throw new ArgumentException($"{data.Length} floats for a [{rows}, {cols}] tensor");
        return new CpuTensor(data.ToArray(), rows, cols);
    }

    public DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures)
    {
        if (data.Length != checked(outFeatures * inFeatures))
            throw new ArgumentException($"{data.Length} floats for a [{outFeatures}, {inFeatures}] weight");
        // Panels of 16 output columns, k-major inside: the GEMM's k loop streams each panel (Gemm.Pack).
        int length = Gemm.PackedLength(outFeatures, inFeatures);
        var packed = AlignedPanels<float>.Allocate(length);
        Gemm.Pack(data, outFeatures, inFeatures, packed);
        WeightBytes += (long)length * sizeof(float);   // the panels; not the < 64 bytes that align them
        _kernels.Add(Fp32Kernel);
        return new CpuTensor(packed.Data, outFeatures, inFeatures, packedWeight: true, packed.Offset);
    }

    /// <summary>A 16-bit source stays 16-bit (exactly the checkpoint's values); with <see cref="Quantization"/>
    /// set, every weight is quantized whatever its source.</summary>
    public DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures, DType sourceType) =>
        UploadWeight(data, outFeatures, inFeatures, sourceType, WeightQuantization.None);

    /// <summary>With <see cref="Quantization"/> None, a weight stored in an exact quantized format (GGUF Q8_0, Q4_0)
    /// stays in it: re-quantizing its values by Folio's rule gives back the file's scales and quants. That is
    /// checked value by value (a file written by another quantizer may hold blocks the rule does not reproduce);
    /// a weight that does not come back exactly is kept as <paramref name="sourceType"/> instead.</summary>
    public DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures, DType sourceType, WeightQuantization exact)
    {
        if (data.Length != checked(outFeatures * inFeatures))
            throw new ArgumentException($"{data.Length} floats for a [{outFeatures}, {inFeatures}] weight");
        DeviceTensor? kept = Quantization != WeightQuantization.None ? null : exact switch
        {
            WeightQuantization.Int8 => Int8Weight.Quantize(data, outFeatures, inFeatures) is var q8 && Reproduces(data, inFeatures, q8.Dequantized) ? q8 : null,
            WeightQuantization.Int4 => Int4Weight.Quantize(data, outFeatures, inFeatures) is var q4 && Reproduces(data, inFeatures, q4.Dequantized) ? q4 : null,
            _ => null,
        };
        DeviceTensor t = kept
            ?? (Quantization == WeightQuantization.Int8 ? Int8Weight.Quantize(data, outFeatures, inFeatures)
            : Quantization == WeightQuantization.Int4 ? Int4Weight.Quantize(data, outFeatures, inFeatures)
            : sourceType == DType.BF16 ? Coded(HalfWeight.Pack<Bf16Panel>(data, outFeatures, inFeatures, DType.BF16))
            : sourceType == DType.F16 ? HalfWeight.Pack<F16Panel>(data, outFeatures, inFeatures, DType.F16)
            : UploadWeight(data, outFeatures, inFeatures));
        if (t is not CpuTensor)
        {
            WeightBytes += StoredBytes(t);
            _kernels.Add(KernelName(t));
        }
        return t;
    }

    /// <summary>BF16 parts with <see cref="Quantization"/> None are packed from the mapping or used in place
    /// (<see cref="PackMappedBf16"/>); F16
    /// and F32 are not (F16 keeps the packed 16-bit copy, whose upload refuses Inf/NaN; fp32 stays the exact path).</summary>
    public DeviceTensor? UploadMappedWeight(IReadOnlyList<Core.Models.MappedTensor> parts)
    {
        if (Quantization != WeightQuantization.None || !MapWeights)
            return null;
        var w = MappedBf16Weight.TryCreate(parts);
        if (w is null)
            return null;
        if (PackMappedBf16)
        {
            DeviceTensor packed;
            using (w)   // disposing releases the parts, which are the backend's once this returns non-null
            {
                packed = CodeBf16 ? CodedBf16Weight.Encode(w, _runner) : HalfWeight.PackBf16(w, _runner);
                w.ReleasePages();
            }
            WeightBytes += StoredBytes(packed);
            _kernels.Add(KernelName(packed));
            return packed;
        }
        WeightBytes += w.StoredBytes;
        _kernels.Add(Bf16RowGemm.KernelName);
        return w;
    }

    /// <summary>A bf16 panel weight in its exponent-coded form where <see cref="CodeBf16"/> asks for it.</summary>
    private DeviceTensor Coded(HalfWeight w) => CodeBf16 ? CodedBf16Weight.Encode(w, _runner) : w;

    /// <summary>With <see cref="Quantization"/> None, Q4_K/Q5_K/Q6_K weights stay in their blocks as the file stores them
    /// (<see cref="KQuantWeight"/>); with int8/int4 set, null (they are read as fp32 and quantized the asked way).</summary>
    public DeviceTensor? UploadKQuantWeight(IReadOnlyList<KQuantRows> parts)
    {
        if (Quantization != WeightQuantization.None)
            return null;
        var w = KQuantWeight.Create(parts, _runner);
        WeightBytes += w.StoredBytes;
        _kernels.Add(KQuantGemm.KernelName(w));
        return w;
    }

    /// <summary>With <see cref="Quantization"/> None, GGUF Q8_0/Q5_0/IQ4_NL/IQ4_XS weights become int8 weights with exactly
    /// their values (<see cref="Int8Weight.FromGroups"/>, run by the int8 kernels), Q4_0 ones int4 weights
    /// (<see cref="Int4Weight.FromGroups"/>); with int8/int4 set, null (they are read as fp32 and quantized the asked way).</summary>
    public bool TakesInt8Groups => Quantization == WeightQuantization.None;

    public DeviceTensor? UploadInt8GroupWeight(IReadOnlyList<Int8GroupRows> parts)
    {
        if (!TakesInt8Groups)
            return null;
        if (parts.All(p => p.FourBit && p.Scales is not null))
        {
            // Q4_0's values at 4 bits, as stored (Int4Weight is its form).
            var w4 = Int4Weight.FromGroups(parts);
            WeightBytes += w4.StoredBytes;
            _kernels.Add(Int4Gemm.KernelName);
            return w4;
        }
        var w = Int8Weight.FromGroups(parts);
        WeightBytes += w.StoredBytes;
        _kernels.Add(KernelName(w));
        return w;
    }

    /// <summary>A table held in a MatMul weight's form (k-quant panels, int8 or int4 groups: a GGUF table) serves a tied
    /// lm_head as it is, unless the weights are being quantized another way.</summary>
    public bool MultipliesTable(DeviceTensor table) =>
        Quantization == WeightQuantization.None && table is KQuantWeight or Int8Weight or Int4Weight;

    /// <summary>A GGUF Q8_0/Q5_0/Q4_0/IQ4_NL/IQ4_XS token table held as int8 (Q4_0: int4) groups of its exact values, a
    /// lookup dequantizing the step's rows (the values an fp32 copy would hold); with int8/int4 set, null, as for the
    /// weights.</summary>
    public DeviceTensor? UploadInt8GroupTable(Int8GroupRows table) =>
        !TakesInt8Groups ? null
        : table.FourBit && table.Scales is not null ? Int4Weight.FromGroups([table])
        : Int8Weight.FromGroups([table]);

    /// <summary>A Q4_K/Q5_K/Q6_K token table stays in its blocks whatever the quantization (a lookup dequantizes the step's
    /// rows by ggml's rule: the values an fp32 copy would hold).</summary>
    public DeviceTensor? UploadKQuantTable(KQuantRows table) => KQuantWeight.Create([table], _runner);

    /// <summary>With <see cref="MapWeights"/>, every table is used in place (F32, F16 or BF16 rows, widened per
    /// lookup), quantizing or not; without, it is copied (as before mapping existed).</summary>
    public DeviceTensor? UploadMappedTable(Core.Models.MappedTensor table) =>
        MapWeights && table.Rows <= int.MaxValue && table.Cols <= int.MaxValue ? new MappedTable(table) : null;

    /// <summary>With <see cref="Quantization"/> set, the weight is quantized a few rows at a time, so a load never
    /// holds more than one piece in fp32 (each row's groups depend on that row alone: the same bits as whole).</summary>
    public DeviceTensor? UploadWeightRows(int outFeatures, int inFeatures, DType sourceType, WeightRowReader read)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (Quantization == WeightQuantization.None)
            return null;
        // About 4 MiB of fp32 per piece.
        int rowsPerPiece = Math.Max(1, (1 << 20) / Math.Max(1, inFeatures));
        var buffer = new float[checked(Math.Min(rowsPerPiece, outFeatures) * inFeatures)];
        DeviceTensor t;
        Action<ReadOnlySpan<float>, int> quantizeRows;
        if (Quantization == WeightQuantization.Int8)
        {
            var q = Int8Weight.Create(outFeatures, inFeatures);
            (t, quantizeRows) = (q, q.QuantizeRows);
        }
        else
        {
            var q = Int4Weight.Create(outFeatures, inFeatures);
            (t, quantizeRows) = (q, q.QuantizeRows);
        }
        for (int r = 0; r < outFeatures; r += rowsPerPiece)
        {
            var piece = buffer.AsSpan(0, Math.Min(rowsPerPiece, outFeatures - r) * inFeatures);
            read(r, piece);
            quantizeRows(piece, r);
        }
        WeightBytes += StoredBytes(t);
        _kernels.Add(KernelName(t));
        return t;
    }

    private static bool Reproduces(ReadOnlySpan<float> data, int inFeatures, Func<int, int, float> dequantized)
    {
        for (int i = 0; i < data.Length; i++)
            if (BitConverter.SingleToUInt32Bits(data[i]) != BitConverter.SingleToUInt32Bits(dequantized(i / inFeatures, i % inFeatures))
                && !(data[i] == 0f && dequantized(i / inFeatures, i % inFeatures) == 0f))
                return false;
        return true;
    }

    private static long StoredBytes(DeviceTensor t) => t switch
    {
        HalfWeight h => h.StoredBytes,
        CodedBf16Weight c => c.StoredBytes,
        MappedBf16Weight m => m.StoredBytes,
        Int8Weight q => q.StoredBytes,
        Int4Weight q => q.StoredBytes,
        KQuantWeight q => q.StoredBytes,
        CpuTensor { PackedWeight: true } c => (long)Gemm.PackedLength(c.Rows, c.Cols) * sizeof(float),
        CpuTensor c => c.Data.LongLength * sizeof(float),
        _ => 0,
    };

    private static string KernelName(DeviceTensor t) => t switch
    {
        HalfWeight h => $"{(h.DType == DType.BF16 ? "bf16" : "fp16")} weights, widened in registers from 32-column panels, fp32 FMA ({(Vector512.IsHardwareAccelerated ? "Vector512, 8 × 32 tiles" : "Vector256, 6 × 16 tiles over half panels")})",
        MappedBf16Weight => Bf16RowGemm.KernelName,
        CodedBf16Weight => CodedBf16Gemm.KernelName,
        // IQ4_XS's products and the re-quantized GGUF types keep fp32 group scales (Int8Weight.SingleScales).
        Int8Weight w => w.SingleScales is null ? Int8Gemm.KernelName : Int8Gemm.KernelName.Replace("fp16 scales", "fp32 scales", StringComparison.Ordinal),
        Int4Weight => Int4Gemm.KernelName,
        _ => Fp32Kernel,
    };

    /// <summary>The fp32 kernel as it runs on this machine (the 512-bit tiles only where Vector512 is accelerated).</summary>
    private static string Fp32Kernel => Gemm.Wide
        ? "fp32 weights, fp32 FMA (Vector512 8x32/4x32 tiles k-blocked for several rows, 1x16 a panel at a time for one)"
        : "fp32 weights, fp32 FMA (Vector256)";

    public void Download(DeviceTensor source, Span<float> destination)
    {
        var t = T(source);
        if (t.PackedWeight)
            throw new ArgumentException("a packed weight cannot be downloaded");
        t.Span.CopyTo(destination);
    }

    public void MatMul(DeviceTensor input, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        var x = T(input);
        var y = T(output);
        Require(weight is not CpuTensor { PackedWeight: false }, "MatMul: the weight must come from UploadWeight");
        // Messages formatted only on failure: an interpolated argument would allocate on every call.
        if (x.Cols != weight.Cols)
            throw new ArgumentException($"MatMul: input has {x.Cols} columns, weight [{weight.Rows}, {weight.Cols}]");
        if (y.Rows != x.Rows || y.Cols != weight.Rows)
            throw new ArgumentException($"MatMul: output must be [{x.Rows}, {weight.Rows}], is [{y.Rows}, {y.Cols}]");
        float[]? b = null;
        if (bias is not null)
        {
            var bt = T(bias);
            Require(bt.Rows * bt.Cols == weight.Rows, "MatMul: bias length differs from the output columns");
            b = bt.Data;
        }
        switch (weight)
        {
            case CpuTensor w:
                Gemm.Run(x.Data, x.Rows, x.Cols, new AlignedPanels<float>(w.Data, w.Offset), w.Rows, b, y.Data, _runner);
                break;
            case HalfWeight h when h.DType == DType.BF16:
                HalfGemm<Bf16Panel>.Run(x.Data, x.Rows, h, b, y.Data, _runner);
                break;
            case CodedBf16Weight c:
                CodedBf16Gemm.Run(x.Data, x.Rows, c, b, y.Data, _runner);
                break;
            case HalfWeight h:
                HalfGemm<F16Panel>.Run(x.Data, x.Rows, h, b, y.Data, _runner);
                break;
            case MappedBf16Weight m:
                if (_splitScratch.Length < x.Rows * x.Cols)
                    _splitScratch = new float[x.Rows * x.Cols];
                Bf16RowGemm.Run(x.Data, x.Rows, m, b, y.Data, _runner, _splitScratch);
                break;
            case Int8Weight q:
                Int8Gemm.Run(x.Data, x.Rows, q, b, y.Data, _runner, _int8Scratch);
                break;
            case Int4Weight q:
                Int4Gemm.Run(x.Data, x.Rows, q, b, y.Data, _runner, _int8Scratch);
                break;
            case KQuantWeight q:
                KQuantGemm.Run(x.Data, x.Rows, q, b, y.Data, _runner, _int8Scratch);
                break;
            default:
                throw new ArgumentException($"MatMul: a {weight.GetType().Name} is not a CPU weight");
        }
    }

    public void Dispose() => _runner.Dispose();

    internal static CpuTensor T(DeviceTensor t) =>
        t as CpuTensor ?? throw new ArgumentException($"a {t.GetType().Name} is not a CPU tensor");

    private static CpuKvCache C(DeviceKvCache c) =>
        c as CpuKvCache ?? throw new ArgumentException($"a {c.GetType().Name} is not a CPU KV cache");

    private static void Require(bool condition, string message)
    {
        if (!condition)
            throw new ArgumentException(message);
    }
}
