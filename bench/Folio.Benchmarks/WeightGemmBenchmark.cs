using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Cpu;

namespace Folio.Benchmarks;

/// <summary>
/// <c>gemm-precision</c>: one MatMul of b8's lm_head shape ([32000, 768], larger than any cache) with the weight
/// in fp32, bf16 (packed, and mapped in place), int8, int4, and GGUF Q4_K / Q6_K blocks (random bytes), for 1, 32 and 128 input rows, on one thread, formats alternating round by round. Per
/// format: the fastest and median of 15 rounds by process CPU time (what a shared, oversubscribed machine
/// cannot inflate) and by wall time, and the weight bytes read per second at the fastest round.
/// </summary>
internal static class WeightGemmBenchmark
{
    public static void Run()
    {
        const int Out = 32000, In = 768, Rounds = 15;
        var rng = new Random(1);
        float[] w = [.. Enumerable.Range(0, Out * In).Select(_ => (float)(rng.NextDouble() - 0.5))];
        float[] w16 = [.. w.Select(v => BitConverter.Int32BitsToSingle((int)(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000)))];
        using var fp32 = new CpuBackend(1);
        using var int8 = new CpuBackend(1, WeightQuantization.Int8);
        using var int4 = new CpuBackend(1, WeightQuantization.Int4);
        string file = WriteBf16(w16, Out, In);
        DeviceTensor mapped;
        using (var st = Folio.Core.Models.SafetensorsFile.Open(file))
            mapped = fp32.UploadMappedWeight([st.Map(st.Tensors["w"])]) ?? throw new InvalidOperationException("bf16 not mapped");
        File.Delete(file);   // the mapping keeps the data (Linux)
        var formats = new (string Name, CpuBackend Backend, DeviceTensor Weight)[]
        {
            ("fp32", fp32, fp32.UploadWeight(w, Out, In)),
            ("bf16", fp32, fp32.UploadWeight(w16, Out, In, DType.BF16)),
            ("bf16-mapped", fp32, mapped),
            ("int8", int8, int8.UploadWeight(w, Out, In, DType.F32)),
            ("int4", int4, int4.UploadWeight(w, Out, In, DType.F32)),
            ("Q4_K", fp32, Repacked(fp32, RandomKQuant(KQuantFormat.Q4K, Out, In, rng))),
            ("Q6_K", fp32, Repacked(fp32, RandomKQuant(KQuantFormat.Q6K, Out, In, rng))),
        };
        long[] bytes = [(long)Out * In * 4, (long)Out * In * 2, (long)Out * In * 2, (long)Out * In / 32 * 34, (long)Out * In / 32 * 18,
            (long)Out * In / 256 * 144, (long)Out * In / 256 * 210];
        foreach (int rows in new[] { 1, 32, 128 })
        {
            var x = new float[rows * In];
            for (int i = 0; i < x.Length; i++)
                x[i] = (float)(rng.NextDouble() - 0.5);
            var cpu = new List<double>[formats.Length];
            var wall = new List<double>[formats.Length];
            for (int f = 0; f < formats.Length; f++)
            {
                (cpu[f], wall[f]) = ([], []);
            }
            var inputs = formats.Select(f => f.Backend.Upload(x, rows, In)).ToArray();
            var outputs = formats.Select(f => f.Backend.Allocate(rows, Out)).ToArray();
            for (int round = -3; round < Rounds; round++)   // three warm-up rounds (tier-1 JIT)
            {
                for (int f = 0; f < formats.Length; f++)
                {
                    int calls = rows == 1 ? 20 : rows == 32 ? 4 : 1;
                    var process = Process.GetCurrentProcess();
                    var c0 = process.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    for (int i = 0; i < calls; i++)
                        formats[f].Backend.MatMul(inputs[f], formats[f].Weight, null, outputs[f]);
                    double wallMs = clock.Elapsed.TotalMilliseconds / calls;
                    process.Refresh();
                    double cpuMs = (process.TotalProcessorTime - c0).TotalMilliseconds / calls;
                    if (round >= 0)
                    {
                        cpu[f].Add(cpuMs);
                        wall[f].Add(wallMs);
                    }
                }
            }
            for (int f = 0; f < formats.Length; f++)
            {
                var c = cpu[f].Order().ToArray();
                var t = wall[f].Order().ToArray();
                Console.WriteLine($"rows {rows,2} {formats[f].Name}: cpu ms min {c[0]:F2} median {c[Rounds / 2]:F2}; wall ms min {t[0]:F2} median {t[Rounds / 2]:F2}; " +
                    $"{bytes[f] / 1e9 / (t[0] / 1e3):F1} GB/s weights at the fastest wall round; {2.0 * rows * Out * In / 1e9 / (t[0] / 1e3):F1} GFLOP/s");
            }
        }
    }

    /// <summary>The backend's k-quant weight (repacked into panels at upload), the upload's wall time printed.</summary>
    private static DeviceTensor Repacked(CpuBackend backend, KQuantRows rows)
    {
        var clock = Stopwatch.StartNew();
        var w = backend.UploadKQuantWeight([rows]) ?? throw new InvalidOperationException("k-quant blocks declined");
        Console.WriteLine($"{rows.Format.Name()} [{rows.Rows}, {rows.Cols}] read and repacked in {clock.Elapsed.TotalMilliseconds:F0} ms " +
            $"({(long)rows.Rows * rows.RowBytes / 1e6 / clock.Elapsed.TotalSeconds:F0} MB/s of blocks)");
        return w;
    }

    /// <summary>k-quant blocks of random bytes (every value, scale and min pattern) with finite fp16 scales: the
    /// kernel's speed does not depend on the values.</summary>
    private static KQuantRows RandomKQuant(KQuantFormat format, int rows, int cols, Random rng)
    {
        var bytes = new byte[(long)rows * cols / 256 * format.BlockBytes()];
        rng.NextBytes(bytes);
        for (int at = 0; at < bytes.Length; at += format.BlockBytes())
            if (format == KQuantFormat.Q4K)
            {
                bytes[at + 1] &= 0x3B;
                bytes[at + 3] &= 0x3B;
            }
            else
                bytes[at + 209] &= 0x3B;
        return new KQuantRows("w", format, rows, cols, bytes);
    }

    /// <summary>A one-tensor safetensors file ("w", BF16 [rows, cols]) of values already bf16, in the temp folder.</summary>
    internal static string WriteBf16(float[] values, int rows, int cols)
    {
        string path = Path.Combine(Path.GetTempPath(), $"folio-gemm-bench-{Environment.ProcessId}.safetensors");
        var header = System.Text.Encoding.UTF8.GetBytes($"{{\"w\":{{\"dtype\":\"BF16\",\"shape\":[{rows},{cols}],\"data_offsets\":[0,{2L * rows * cols}]}}}}");
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((ulong)header.Length));
        f.Write(header);
        var data = new byte[2L * rows * cols];
        for (long i = 0; i < values.LongLength; i++)
            BitConverter.TryWriteBytes(data.AsSpan((int)(2 * i), 2), (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16));
        f.Write(data);
        return path;
    }
}
