using System.Buffers.Binary;
using System.Text;
using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests.Precision;

/// <summary>bf16 weights used in place from a memory-mapped safetensors file: the row-major dot-product GEMM against
/// its documented summation order (bit for bit, every tile), a double reference, and batch invariance.</summary>
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

    /// <summary>The documented order, written out lane by lane: per chunk of 32, lane l (0..15) sums element 2l into
    /// one accumulator and 2l + 1 into the other; then the two added, halves added twice (16 → 8 → 4 lanes),
    /// (t0 + t2) + (t1 + t3), the tail by scalar FMA, then the bias.</summary>
    private static float Reference(float[] x, int r, int k, float[] w, int o, float[]? b)
    {
        var acc = new float[2, 16];
        int chunks = k / 32;
        for (int c = 0; c < chunks; c++)
            for (int l = 0; l < 16; l++)
                for (int odd = 0; odd < 2; odd++)
                {
                    int i = 32 * c + 2 * l + odd;
                    acc[odd, l] = MathF.FusedMultiplyAdd(x[r * k + i], w[o * k + i], acc[odd, l]);
                }
        var s = new float[16];
        for (int l = 0; l < 16; l++)
            s[l] = acc[0, l] + acc[1, l];
        var u = new float[8];
        for (int l = 0; l < 8; l++)
            u[l] = s[l] + s[l + 8];
        var t = new float[4];
        for (int l = 0; l < 4; l++)
            t[l] = u[l] + u[l + 4];
        float sum = (t[0] + t[2]) + (t[1] + t[3]);
        for (int i = chunks * 32; i < k; i++)
            sum = MathF.FusedMultiplyAdd(x[r * k + i], w[o * k + i], sum);
        return b is null ? sum : sum + b[o];
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(1, 19, 99, 2)]
    [InlineData(1, 768, 200, 3)]
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
        using var backend = new CpuBackend(2, packMappedBf16: false);
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
                float[] got = HalfGemmTests.MatMul(backend, x, rows, k, weight, bias);
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
                    Assert.Equal(got[(r * outCols)..((r + 1) * outCols)], HalfGemmTests.MatMul(backend, x[(r * k)..((r + 1) * k)], 1, k, weight, bias));
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
