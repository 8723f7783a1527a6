using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>
/// The CPU backend: managed fp32 kernels with Vector256 SIMD, multi-threaded over independent outputs.
/// Every op computes each output row from its own input row in a fixed order (batch invariance). The ops that
/// read the step's metadata, the KV cache and sampling are in CpuBackend.Step.cs.
/// </summary>
public sealed partial class CpuBackend : IComputeBackend
{
    private readonly ParallelRunner _runner;

    public CpuBackend(int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        _runner = new ParallelRunner(threads == 0 ? Environment.ProcessorCount : threads);
    }

    public string Name => $"cpu ({_runner.Threads} threads)";
    public int Threads => _runner.Threads;

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
        var packed = new float[Gemm.PackedLength(outFeatures, inFeatures)];
        Gemm.Pack(data, outFeatures, inFeatures, packed);
        return new CpuTensor(packed, outFeatures, inFeatures, packedWeight: true);
    }

    public void Download(DeviceTensor source, Span<float> destination)
    {
        var t = T(source);
        if (t.PackedWeight)
            throw new ArgumentException("a packed weight cannot be downloaded");
        t.Span.CopyTo(destination);
    }

    public void RmsNorm(DeviceTensor input, DeviceTensor weight, float eps, DeviceTensor output)
    {
        var x = T(input);
        var g = T(weight);
        var y = T(output);
        Require(g.Cols == x.Cols && y.Rows == x.Rows && y.Cols == x.Cols, "RmsNorm: shapes differ");
        int n = x.Cols;
        for (int r = 0; r < x.Rows; r++)
        {
            var row = x.Row(r);
            float inv = 1f / MathF.Sqrt(SumOfSquares(row) / n + eps);
            var dst = y.Row(r);
            var gamma = g.Row(0);
            // Hugging Face order: weight × (x × rsqrt(mean(x²) + eps)).
            for (int i = 0; i < n; i++)
                dst[i] = gamma[i] * (row[i] * inv);
        }
    }

    private static float SumOfSquares(ReadOnlySpan<float> v)
    {
        ref float r = ref MemoryMarshal.GetReference(v);
        int nv = v.Length & ~7;
        var acc = Vector256<float>.Zero;
        for (int i = 0; i < nv; i += 8)
        {
            var a = Vector256.LoadUnsafe(ref r, (nuint)i);
            acc = Vector256.FusedMultiplyAdd(a, a, acc);
        }
        float s = Vector256.Sum(acc);
        for (int i = nv; i < v.Length; i++)
            s += v[i] * v[i];
        return s;
    }

    public void MatMul(DeviceTensor input, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        var x = T(input);
        var w = T(weight);
        var y = T(output);
        Require(w.PackedWeight, "MatMul: the weight must come from UploadWeight");
        // Messages formatted only on failure: an interpolated argument would allocate on every call.
        if (x.Cols != w.Cols)
            throw new ArgumentException($"MatMul: input has {x.Cols} columns, weight [{w.Rows}, {w.Cols}]");
        if (y.Rows != x.Rows || y.Cols != w.Rows)
            throw new ArgumentException($"MatMul: output must be [{x.Rows}, {w.Rows}], is [{y.Rows}, {y.Cols}]");
        float[]? b = null;
        if (bias is not null)
        {
            var bt = T(bias);
            Require(bt.Rows * bt.Cols == w.Rows, "MatMul: bias length differs from the output columns");
            b = bt.Data;
        }
        Gemm.Run(x.Data, x.Rows, x.Cols, w.Data, w.Rows, b, y.Data, _runner);
    }

    public void Add(DeviceTensor target, DeviceTensor addend)
    {
        var a = T(target);
        var b = T(addend);
        Require(a.Rows == b.Rows && a.Cols == b.Cols, "Add: shapes differ");
        DTypes.Require(b.DType, a.DType, "Add: the addend");
        System.Numerics.Tensors.TensorPrimitives.Add(a.Span, b.Span, a.Span);
    }

    public void SiluAndMul(DeviceTensor gateUp, DeviceTensor output)
    {
        var gu = T(gateUp);
        var o = T(output);
        int f = o.Cols;
        Require(gu.Cols == 2 * f && gu.Rows == o.Rows, "SiluAndMul: gateUp must be [rows, 2 × output cols]");
        for (int r = 0; r < o.Rows; r++)
        {
            var row = gu.Row(r);
            var dst = o.Row(r);
            for (int i = 0; i < f; i++)
            {
                float g = row[i];
                dst[i] = g / (1f + MathF.Exp(-g)) * row[f + i];
            }
        }
    }

    public void Dispose()
    {
    }

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
