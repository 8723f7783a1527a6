using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>The element-wise ops of a layer: RMS norm, the residual add and SiLU-and-multiply, each row computed from
/// its own input row alone (batch invariant), rows split over the threads where there are enough.</summary>
public sealed partial class CpuBackend
{
    public void RmsNorm(DeviceTensor input, DeviceTensor weight, float eps, DeviceTensor output)
    {
        var x = T(input);
        var g = T(weight);
        var y = T(output);
        RequireNormShapes(x, g, y);
        // Rows are independent: a prefill's thousands of rows split over the threads; a decode step's few run inline.
        _runner.For(x.Rows, (long)x.Rows * x.Cols, new NormJob(x.Data, g.Data, y.Data, x.Cols, eps), static (j, r) =>
            RmsNormRow(j.X.AsSpan(r * j.N, j.N), j.Gamma.AsSpan(0, j.N), j.Eps, j.Y.AsSpan(r * j.N, j.N)));
    }

    /// <summary>Hugging Face's order: weight × (x × rsqrt(mean(x²) + eps)), two fp32 products an element, in 16 lanes
    /// or one at a time with the same bits.</summary>
    private static void RmsNormRow(ReadOnlySpan<float> row, ReadOnlySpan<float> gamma, float eps, Span<float> dst)
    {
        int n = row.Length;
        float inv = 1f / MathF.Sqrt(SumOfSquares(row) / n + eps);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && dst.Length == n && gamma.Length == n)
        {
            ref float xr = ref MemoryMarshal.GetReference(row);
            ref float gr = ref MemoryMarshal.GetReference(gamma);
            ref float dr = ref MemoryMarshal.GetReference(dst);
            var vinv = Vector512.Create(inv);
            for (; i + Vector512<float>.Count <= n; i += Vector512<float>.Count)
                (Vector512.LoadUnsafe(ref gr, (nuint)i) * (Vector512.LoadUnsafe(ref xr, (nuint)i) * vinv)).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < n; i++)
            dst[i] = gamma[i] * (row[i] * inv);
    }

    private readonly record struct NormJob(float[] X, float[] Gamma, float[] Y, int N, float Eps);

    /// <summary>Each query and key head of a row normalised as <see cref="RmsNorm"/> normalises a row (the same
    /// arithmetic over HeadDim values), in place; rows over the threads.</summary>
    public void HeadRmsNorm(DeviceTensor qkv, AttentionShape shape, DeviceTensor queryWeight, DeviceTensor keyWeight, float eps)
    {
        var t = T(qkv);
        var gq = T(queryWeight);
        var gk = T(keyWeight);
        int d = shape.HeadDim;
        Require(t.Cols == shape.QkvCols && gq.Rows * gq.Cols == d && gk.Rows * gk.Cols == d,
            "HeadRmsNorm: qkv must be [rows, QkvCols] and each weight [HeadDim]");
        int heads = shape.NumHeads + shape.NumKvHeads;
        _runner.For(t.Rows, (long)t.Rows * heads * d, new HeadNormJob(t, shape, gq.Data, gk.Data, eps), static (j, r) =>
        {
            var row = j.Qkv.Row(r);
            int d = j.Shape.HeadDim;
            // Q heads then K heads are contiguous at the start of the row (AttentionShape's layout).
            for (int h = 0; h < j.Shape.NumHeads + j.Shape.NumKvHeads; h++)
            {
                var head = row.Slice(h * d, d);
                RmsNormRow(head, (h < j.Shape.NumHeads ? j.Query : j.Key).AsSpan(0, d), j.Eps, head);
            }
        });
    }

    private readonly record struct HeadNormJob(CpuTensor Qkv, AttentionShape Shape, float[] Query, float[] Key, float Eps);

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

    /// <summary>target += addend, then output = RmsNorm(target), row by row in one pass over the threads (the sum, then
    /// the norm of the summed row while it is in L1): the bits of <see cref="Add"/> then <see cref="RmsNorm"/>, without a
    /// single-threaded sweep of the whole residual first (in b8's 128-token prompt step the two ops in turn took ~93 µs
    /// a call).</summary>
    public void AddRmsNorm(DeviceTensor target, DeviceTensor addend, DeviceTensor weight, float eps, DeviceTensor output)
    {
        var x = T(target);
        var a = T(addend);
        var g = T(weight);
        var y = T(output);
        RequireAddShapes(x, a);
        RequireNormShapes(x, g, y);
        // RmsNorm's work measure, so a decode step's rows still run inline (a fork costs more than they do).
        _runner.For(x.Rows, (long)x.Rows * x.Cols, new AddNormJob(x.Data, a.Data, g.Data, y.Data, x.Cols, eps), static (j, r) =>
        {
            var row = j.X.AsSpan(r * j.N, j.N);
            System.Numerics.Tensors.TensorPrimitives.Add(row, j.A.AsSpan(r * j.N, j.N), row);
            RmsNormRow(row, j.Gamma.AsSpan(0, j.N), j.Eps, j.Y.AsSpan(r * j.N, j.N));
        });
    }

    private readonly record struct AddNormJob(float[] X, float[] A, float[] Gamma, float[] Y, int N, float Eps);

    /// <summary>target += addend (the residual connection).</summary>
    public void Add(DeviceTensor target, DeviceTensor addend)
    {
        var a = T(target);
        var b = T(addend);
        RequireAddShapes(a, b);
        System.Numerics.Tensors.TensorPrimitives.Add(a.Span, b.Span, a.Span);
    }

    private static void RequireAddShapes(CpuTensor target, CpuTensor addend)
    {
        Require(addend.Rows == target.Rows && addend.Cols == target.Cols, "Add: shapes differ");
        DTypes.Require(addend.DType, target.DType, "Add: the addend");
    }

    private static void RequireNormShapes(CpuTensor x, CpuTensor gamma, CpuTensor y) =>
        Require(gamma.Cols == x.Cols && y.Rows == x.Rows && y.Cols == x.Cols, "RmsNorm: shapes differ");

    public void SiluAndMul(DeviceTensor gateUp, DeviceTensor output)
    {
        var gu = T(gateUp);
        var o = T(output);
        int f = o.Cols;
        Require(gu.Cols == 2 * f && gu.Rows == o.Rows, "SiluAndMul: gateUp must be [rows, 2 × output cols]");
        // About 20 operations an element (the exp); rows are independent, so they split over threads.
        _runner.For(o.Rows, 20L * o.Rows * f, new SiluJob(gu.Data, o.Data, f), static (j, r) =>
            SiluAndMulRow(j.GateUp.AsSpan(r * 2 * j.F, 2 * j.F), j.Output.AsSpan(r * j.F, j.F)));
    }

    /// <summary>dst[i] = silu(gate[i]) · up[i] = gate[i] / (1 + exp(−gate[i])) · up[i], 16 (or 8) lanes at a time, the
    /// columns past the last whole vector by the scalar formula: which path an element takes depends on its column,
    /// the row length and the machine only, never on the batch.</summary>
    internal static void SiluAndMulRow(ReadOnlySpan<float> gateUp, Span<float> dst)
    {
        int f = dst.Length;
        ref float g = ref MemoryMarshal.GetReference(gateUp);
        ref float u = ref Unsafe.Add(ref g, f);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (FastExp.IsSupported)
            for (; i + Vector512<float>.Count <= f; i += Vector512<float>.Count)
            {
                var gv = Vector512.LoadUnsafe(ref g, (nuint)i);
                var uv = Vector512.LoadUnsafe(ref u, (nuint)i);
                (gv / (Vector512<float>.One + FastExp.Exp(-gv)) * uv).StoreUnsafe(ref d, (nuint)i);
            }
        else   // the same lane-wise arithmetic in 8 lanes (a NativeAOT build targets AVX2)
            for (; i + Vector256<float>.Count <= f; i += Vector256<float>.Count)
            {
                var gv = Vector256.LoadUnsafe(ref g, (nuint)i);
                var uv = Vector256.LoadUnsafe(ref u, (nuint)i);
                (gv / (Vector256<float>.One + Vector256.Exp(-gv)) * uv).StoreUnsafe(ref d, (nuint)i);
            }
        for (; i < f; i++)
        {
            float x = gateUp[i];
            dst[i] = x / (1f + MathF.Exp(-x)) * gateUp[f + i];
        }
    }

    private readonly record struct SiluJob(float[] GateUp, float[] Output, int F);
}
