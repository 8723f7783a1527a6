using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Cpu;

namespace Folio.Benchmarks;

/// <summary>
/// <c>gemm-step [THREADS] [PASSES] [ROWS] [fp32|bf16|int8|int4]</c>: a decode step's MatMuls alone, at ROWS rows (default 32, the
/// 32-sequence step). b8's MatMul weights (12 layers of q/k/v [1280, 768], o [768, 768], gate/up [4096, 768], down
/// [768, 2048], then lm_head [32000, 768]; bf16: 250 MB in 16-bit panels, fp32: 500 MB, int8 and int4: quantized at
/// upload as <c>--quantization</c> does) multiplied in the model's
/// order, pass after pass, so each weight comes from memory as in a step (unlike <c>gemm-shapes</c>, whose one
/// weight stays in cache). Prints the fastest pass (the one least disturbed on a shared machine) with its GFLOP/s, the
/// share of the FMA ceiling measured right after (<see cref="FmaPeakBenchmark"/>: what a compute-bound step, ROWS 128
/// for a prompt, can reach), the least process CPU time of a pass (at one thread: the pass's own compute, time slices
/// taken by others excluded; at more, the workers' spinning included), and per shape the summed time and GFLOP/s in the fastest pass.
/// </summary>
internal static class GemmStepBenchmark
{
    public static void Run(int threads, int passes, int rows, string precision)
    {
        (int Out, int In)[] layer = [(1280, 768), (768, 768), (4096, 768), (768, 2048)];
        var (dtype, quantization) = precision switch
        {
            "fp32" => (DType.F32, WeightQuantization.None),
            "bf16" => (DType.BF16, WeightQuantization.None),
            "int8" => (DType.F32, WeightQuantization.Int8),
            "int4" => (DType.F32, WeightQuantization.Int4),
            _ => throw new ArgumentException($"precision {precision}: fp32, bf16, int8 or int4"),
        };
        using var backend = new CpuBackend(threads, quantization);
        var rng = new Random(1);
        var values = new float[32000 * 768];
        for (int i = 0; i < values.Length; i++)   // bf16-representable, so both precisions hold the same values
            values[i] = BitConverter.Int32BitsToSingle((int)(BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() - 0.5)) & 0xFFFF0000));
        DeviceTensor Upload(int o, int k) => backend.UploadWeight(values.AsSpan(0, o * k), o, k, dtype);
        var weights = new List<(DeviceTensor W, int Shape)>();
        for (int l = 0; l < 12; l++)
            for (int s = 0; s < layer.Length; s++)
                weights.Add((Upload(layer[s].Out, layer[s].In), s));
        weights.Add((Upload(32000, 768), layer.Length));
        (int Out, int In)[] shapes = [.. layer, (32000, 768)];
        var x = new DeviceTensor[] { backend.Upload(values.AsSpan(0, rows * 768), rows, 768), backend.Upload(values.AsSpan(0, rows * 2048), rows, 2048) };
        var y = shapes.Select(s => backend.Allocate(rows, s.Out)).ToArray();
        Console.WriteLine($"gemm-step, {backend.Name}, {precision}, {rows} rows; {DateTime.UtcNow:u}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var run = ModelOrderPasses.Run(backend, weights, shapes, x, y, passes);
        double bestPass = run.FastestMs, bestCpu = run.CpuMs.Min();
        var best = run.FastestPerShapeMs;
        double flop = weights.Sum(w => 2.0 * rows * shapes[w.Shape].Out * shapes[w.Shape].In);
        double ceiling = FmaPeakBenchmark.MeasureGFlops(threads);
        Console.WriteLine($"fastest of {passes} passes: {bestPass:F2} ms, {flop / bestPass / 1e6:F1} GFLOP/s ({flop / bestPass / 1e6 / ceiling:P0} of the FMA ceiling, {ceiling:F1} GFLOP/s on {threads} threads just after); least process CPU in a pass {bestCpu:F2} ms; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        for (int s = 0; s < shapes.Length; s++)
        {
            int calls = s < layer.Length ? 12 : 1;
            double f = 2.0 * rows * shapes[s].Out * shapes[s].In * calls;
            Console.WriteLine($"  [{shapes[s].Out,5}, {shapes[s].In,4}] x{calls,2}: {best[s],7:F2} ms {f / best[s] / 1e6,6:F1} GFLOP/s");
        }
        foreach (var (w, _) in weights)
            w.Dispose();
    }
}
