using System.Buffers.Binary;
using System.Text;
using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>bf16 weights used in place from a memory-mapped safetensors file: the GEMM (rows widened and transposed
/// into fp32 panels per 32-output block, then the fp32 tiles) against its documented summation order (bit for bit,
/// every tile, partial blocks and panels), a double reference, and batch invariance.</summary>
public sealed class MappedBf16GemmTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-mapped-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static float[] Bf16(float[] v) =>
        v.Select(f => BitConverter.Int32BitsToSingle((int)((BitConverter.SingleToUInt32Bits(f) + 0x7FFF + ((BitConverter.SingleToUInt32Bits(f) >> 16) & 1)) & 0xFFFF0000))).ToArray();

    /// <summary>A safetensors file of BF16 matrices (values already bf16, so the file holds them exactly).</summary>
    internal static void WriteBf16(string path, params (string Name, int Rows, int Cols, float[] Values)[] tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, rows, cols, _) in tensors)
        {
            long bytes = 2L * rows * cols;
            header.Append($"{(offset == 0 ? "" : ",")}\"{name}\":{{\"dtype\":\"BF16\",\"shape\":[{rows},{cols}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }
        header.Append('}');
        using var file = File.Create(path);
        var h = Encoding.UTF8.GetBytes(header.ToString());
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)h.Length);
        file.Write(length);
        file.Write(h);
        foreach (var (_, _, _, values) in tensors)
            foreach (float v in values)
            {
                var two = new byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(two, (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16));
                file.Write(two);
            }
    }

    private static float[] MatMul(CpuBackend backend, float[] x, int rows, int k, DeviceTensor w, float[]? b)
    {
        using var tx = backend.Upload(x, rows, k);
        using var tb = b is null ? null : backend.Upload(b, 1, b.Length);
        using var ty = backend.Allocate(rows, w.Rows);
        backend.MatMul(tx, w, tb, ty);
        var y = new float[rows * w.Rows];
        backend.Download(ty, y);
        return y;
    }

    /// <summary>The documented order, written out: one fused multiply-add chain over k = 0, 1, … from zero, then the
    /// bias (the fp32 path's order: the kernel widens the weights exactly and runs the fp32 tiles).</summary>
    private static float Reference(float[] x, int r, int k, float[] w, int o, float[]? b)
    {
        float sum = 0f;
        for (int i = 0; i < k; i++)
            sum = MathF.FusedMultiplyAdd(x[r * k + i], w[o * k + i], sum);
        return b is null ? sum : sum + b[o];
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(1, 19, 99, 2)]
    [InlineData(1, 768, 200, 3)]
    [InlineData(1, 64, 130, 2)]
    [InlineData(2, 64, 130, 2)]
    [InlineData(4, 8, 6, 1)]
    [InlineData(4, 16, 6, 1)]
    [InlineData(5, 48, 11, 2)]
    [InlineData(6, 96, 9, 2)]
    [InlineData(7, 24, 130, 3)]
    [InlineData(9, 77, 13, 2)]
    [InlineData(13, 33, 272, 1)]
    [InlineData(64, 65, 130, 3)]
    public void FollowsItsSummationOrderOnEveryTileAndMatchesADoubleReference(int rows, int k, int outCols, int parts)
    {
        float[] x = HalfGemmTests.Random(rows * k, 1), w = Bf16(HalfGemmTests.Random(outCols * k, 2)), b = HalfGemmTests.Random(outCols, 3);
        // The weight as `parts` tensors stacked by rows (as q/k/v are), of uneven heights.
        var cuts = Enumerable.Range(0, parts + 1).Select(i => i == parts ? outCols : outCols * i / parts / 1).Distinct().ToArray();
        var tensors = Enumerable.Range(0, cuts.Length - 1)
            .Select(i => ($"w{i}", cuts[i + 1] - cuts[i], k, w[(cuts[i] * k)..(cuts[i + 1] * k)])).ToArray();
        string path = Path.Combine(_dir, "w.safetensors");
        WriteBf16(path, tensors);
        using var backend = new CpuBackend(2);
        DeviceTensor weight;
        using (var file = SafetensorsFile.Open(path))
        {
            var mapped = tensors.Select(t => file.Map(file.Tensors[t.Item1])).ToList();
            weight = backend.UploadMappedWeight(mapped) ?? throw new InvalidOperationException("not mapped");
        }
        // The file is closed: the weight's reference keeps the mapping.
        using (weight)
        {
            Assert.IsType<MappedBf16Weight>(weight);
            Assert.Equal(2L * outCols * k, backend.WeightBytes);
            foreach (var bias in new[] { b, null })
            {
                float[] got = MatMul(backend, x, rows, k, weight, bias);
                for (int r = 0; r < rows; r++)
                    for (int o = 0; o < outCols; o++)
                    {
                        float want = Reference(x, r, k, w, o, bias);
                        Assert.True(BitConverter.SingleToUInt32Bits(want) == BitConverter.SingleToUInt32Bits(got[r * outCols + o]),
                            $"y[{r},{o}] = {got[r * outCols + o]:R}, the order gives {want:R}");
                        double dot = bias?[o] ?? 0;
                        for (int i = 0; i < k; i++)
                            dot += (double)x[r * k + i] * w[o * k + i];
                        Assert.True(Math.Abs(got[r * outCols + o] - dot) <= 1e-5 * (1 + Math.Abs(dot)), $"y[{r},{o}] vs double");
                    }
                // Each row alone gives the bits it gets in the batch.
                for (int r = 0; r < rows; r++)
                    Assert.Equal(got[(r * outCols)..((r + 1) * outCols)], MatMul(backend, x[(r * k)..((r + 1) * k)], 1, k, weight, bias));
            }
        }
    }

    /// <summary>The AVX-512 and the AVX2 transposes (the latter what NativeAOT builds run) both give the documented
    /// panel layout: panels[p·K·16 + i·16 + l] = w[c0 + 16p + l, i].</summary>
    [Theory]
    [InlineData(64, 768, 0)]
    [InlineData(130, 80, 64)]
    [InlineData(37, 33, 0)]
    [InlineData(100, 16, 64)]
    public void WideningGivesThePanelLayoutOnEveryPath(int outCols, int k, int c0)
    {
        float[] w = Bf16(HalfGemmTests.Random(outCols * k, 8));
        string path = Path.Combine(_dir, "w.safetensors");
        WriteBf16(path, ("w", outCols, k, w));
        using var backend = new CpuBackend(1);
        using var file = SafetensorsFile.Open(path);
        using var weight = (MappedBf16Weight)backend.UploadMappedWeight([file.Map(file.Tensors["w"])])!;
        int c1 = Math.Min(outCols, c0 + Bf16RowGemm.BlockOuts);
        foreach (bool avx512 in new[] { true, false })
        {
            var panels = new float[Bf16RowGemm.ScratchFloats(k)];
            Bf16RowGemm.Widen(weight, c0, c1, panels, avx512);
            for (int o = c0; o < c1; o++)
                for (int i = 0; i < k; i++)
                {
                    int p = (o - c0) / 16, l = (o - c0) % 16;
                    Assert.True(BitConverter.SingleToUInt32Bits(w[o * k + i]) == BitConverter.SingleToUInt32Bits(panels[p * k * 16 + i * 16 + l]),
                        $"avx512 {avx512}: w[{o}, {i}]");
                }
        }
    }

    [Fact]
    public void AWeightOfAnotherDtypeOrAQuantizingBackendIsNotMapped()
    {
        string path = Path.Combine(_dir, "w.safetensors");
        WriteBf16(path, ("a", 3, 8, Bf16(HalfGemmTests.Random(24, 4))));
        using var file = SafetensorsFile.Open(path);
        using var mapped = file.Map(file.Tensors["a"]);
        using var int8 = new CpuBackend(1, WeightQuantization.Int8);
        Assert.Null(int8.UploadMappedWeight([mapped]));
        Assert.Equal(0, int8.WeightBytes);
    }

    [Fact]
    public void ADisposedMappedTensorRefusesItsAddress()
    {
        string path = Path.Combine(_dir, "w.safetensors");
        WriteBf16(path, ("a", 2, 8, Bf16(HalfGemmTests.Random(16, 4))));
        MappedTensor mapped;
        using (var file = SafetensorsFile.Open(path))
            mapped = file.Map(file.Tensors["a"]);
        Assert.NotEqual(0, mapped.Address);
        mapped.Dispose();
        mapped.Dispose();   // idempotent: the mapping's reference is released once
        Assert.Throws<ObjectDisposedException>(() => mapped.Address);
    }
}
