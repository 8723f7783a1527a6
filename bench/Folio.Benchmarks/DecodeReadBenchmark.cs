using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Cpu;

namespace Folio.Benchmarks;

/// <summary>
/// <c>decode-read [THREADS] [PASSES] [ROWS]</c>: batch-1 decode's weight reads alone (ROWS 1, the default; with
/// ROWS 32 the same walk is a 32-sequence step's MatMuls, each weight streamed from memory once for 32 rows). b8's fp32 MatMul weights (12 layers of
/// q/k/v [1280, 768], o [768, 768], gate/up [4096, 768], down [768, 2048], then lm_head [32000, 768]: 400 MB, larger
/// than the caches) multiplied by one row in the model's order, pass after pass, so each MatMul reads its weight
/// from memory as a decode step does. Prints the fastest pass and, per shape, the summed time and read GB/s in
/// the fastest pass, beside <see cref="MemoryBandwidth"/>'s read bound on the same threads. No attention, no
/// norms: what is left of a decode step's gap to the bound after this is not the GEMM. With QUANTIZATION int8 (or
/// int4) the same walk over the quantized weights, with bf16 over weights packed as bf16; GB/s then count the bytes they hold (<see cref="CpuBackend.WeightBytes"/>).
/// </summary>
internal static class DecodeReadBenchmark
{
    public static void Run(int threads, int passes, int rows = 1, WeightQuantization quantization = WeightQuantization.None, DType stored = DType.F32,
        bool codeBf16 = true)
    {
        (int Out, int In)[] layer = [(1280, 768), (768, 768), (4096, 768), (768, 2048)];
        using var backend = new CpuBackend(threads, quantization, codeBf16: codeBf16 && CpuBackend.CodesBf16OnThisMachine);
        var weights = new List<(DeviceTensor W, int Shape)>();
        var rng = new Random(1);
        var scratch = new float[32000 * 768];
        for (int i = 0; i < scratch.Length; i++)
            scratch[i] = stored == DType.BF16   // bf16 weights must hold bf16 values: the top 16 bits
                ? BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits((float)(rng.NextDouble() - 0.5)) & unchecked((int)0xFFFF0000))
                : (float)(rng.NextDouble() - 0.5);
        for (int l = 0; l < 12; l++)
            for (int s = 0; s < layer.Length; s++)
                weights.Add((backend.UploadWeight(scratch.AsSpan(0, layer[s].Out * layer[s].In), layer[s].Out, layer[s].In, stored), s));
        weights.Add((backend.UploadWeight(scratch, 32000, 768, stored), layer.Length));
        (int Out, int In)[] shapes = [.. layer, (32000, 768)];
        var x = new DeviceTensor[] { backend.Upload(scratch.AsSpan(0, rows * 768), rows, 768), backend.Upload(scratch.AsSpan(0, rows * 2048), rows, 2048) };
        var y = shapes.Select(s => backend.Allocate(rows, s.Out)).ToArray();
        double bound = MemoryBandwidth.MeasureReadGBps(threads);
        Console.WriteLine($"decode-read, {rows} row(s), {quantization} weights stored {stored}{(stored == DType.BF16 && backend.CodeBf16 ? " (exponent-coded)" : "")}, {backend.Name}; {DateTime.UtcNow:u}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; read bound {bound:F1} GB/s");
        var run = ModelOrderPasses.Run(backend, weights, shapes, x, y, passes);
        double bestPass = run.FastestMs;
        var best = run.FastestPerShapeMs;
        var passMs = run.WallMs.ToList();
        var passCpuMs = run.CpuMs.ToList();
        double elements = weights.Sum(w => (double)shapes[w.Shape].Out * shapes[w.Shape].In);
        double bytesPerWeight = backend.WeightBytes / elements, bytes = backend.WeightBytes;
        passMs.Sort();
        passCpuMs.Sort();
        double median = passMs[passMs.Count / 2], flop = 2.0 * rows * elements;
        Console.WriteLine($"fastest of {passes} passes: {bestPass:F2} ms, {bytes / bestPass / 1e6:F1} GB/s ({100 * bytes / bestPass / 1e6 / bound:F0} % of the bound), {bytes / 1e6:F0} MB; {flop / bestPass / 1e6:F1} GFLOP/s");
        // Process CPU time per pass: what a crowded machine inflates least (a descheduled thread costs none).
        Console.WriteLine($"median pass: {median:F2} ms, {flop / median / 1e6:F1} GFLOP/s; process CPU per pass: median {passCpuMs[passCpuMs.Count / 2]:F2} ms, fastest {passCpuMs[0]:F2} ms");
        for (int s = 0; s < shapes.Length; s++)
        {
            int calls = s < layer.Length ? 12 : 1;
            double n = (double)shapes[s].Out * shapes[s].In * calls, b = bytesPerWeight * n;
            Console.WriteLine($"  [{shapes[s].Out,5}, {shapes[s].In,4}] x{calls,2}: {best[s],7:F2} ms {b / best[s] / 1e6,6:F1} GB/s {2.0 * rows * n / best[s] / 1e6,6:F1} GFLOP/s");
        }
        foreach (var (w, _) in weights)
            w.Dispose();
    }
}
