using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Cpu;

namespace Folio.Benchmarks;

/// <summary>
/// <c>gemm-shapes [THREADS]</c>: one MatMul per b8 layer shape (q/k/v [1280, 768], o [768, 768], gate/up [4096, 768],
/// down [768, 2048], lm_head [32000, 768]) and a small one that stays in L2 ([256, 768]), fp32, bf16 packed
/// in panels (HalfWeight) and bf16 mapped in place, for 1, 32 and 128 input rows; formats alternate call by call. Per case: the fastest of 15 rounds by wall time
/// (each round enough calls for ~1e8 multiply-adds) and GFLOP/s at it.
/// </summary>
internal static class GemmShapesBenchmark
{
    public static void Run(int threads)
    {
        (int Out, int In)[] shapes = [(256, 768), (1280, 768), (768, 768), (4096, 768), (768, 2048), (32000, 768)];
        using var backend = new CpuBackend(threads);
        var rng = new Random(1);
        Console.WriteLine($"gemm-shapes, {backend.Name}; {DateTime.UtcNow:u}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        foreach (var (o, k) in shapes)
        {
            float[] w = [.. Enumerable.Range(0, o * k).Select(_ => (float)(rng.NextDouble() - 0.5))];
            for (int i = 0; i < w.Length; i++)
                w[i] = BitConverter.Int32BitsToSingle((int)(BitConverter.SingleToUInt32Bits(w[i]) & 0xFFFF0000));
            string file = WeightGemmBenchmark.WriteBf16(w, o, k);
            DeviceTensor mapped;
            using (var st = Folio.Core.Models.SafetensorsFile.Open(file))
                mapped = backend.UploadMappedWeight([st.Map(st.Tensors["w"])]) ?? throw new InvalidOperationException("bf16 not mapped");
            File.Delete(file);
            using var fp32 = backend.UploadWeight(w, o, k);
            using var packed = backend.UploadWeight(w, o, k, DType.BF16);
            using var _ = mapped;
            DeviceTensor[] formats = [fp32, packed, mapped];
            foreach (int rows in new[] { 1, 32, 128 })
            {
                var x = new float[rows * k];
                for (int i = 0; i < x.Length; i++)
                    x[i] = (float)(rng.NextDouble() - 0.5);
                using var tx = backend.Upload(x, rows, k);
                using var ty = backend.Allocate(rows, o);
                int calls = (int)Math.Max(1, 100_000_000L / ((long)rows * o * k));
                var best = new double[formats.Length];
                Array.Fill(best, double.MaxValue);
                for (int round = -3; round < 15; round++)
                    for (int f = 0; f < formats.Length; f++)
                    {
                        long t = Stopwatch.GetTimestamp();
                        for (int i = 0; i < calls; i++)
                            backend.MatMul(tx, formats[f], null, ty);
                        double ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds / calls;
                        if (round >= 0)
                            best[f] = Math.Min(best[f], ms);
                    }
                double flop = 2.0 * rows * o * k;
                Console.WriteLine($"[{o,5}, {k,4}] rows {rows,3}: fp32 {best[0],8:F3} ms {flop / best[0] / 1e6,6:F1} GFLOP/s;  bf16-packed {best[1],8:F3} ms {flop / best[1] / 1e6,6:F1};  bf16-mapped {best[2],8:F3} ms {flop / best[2] / 1e6,6:F1};  mapped/packed time {best[2] / best[1]:F2}");
            }
        }
    }
}
