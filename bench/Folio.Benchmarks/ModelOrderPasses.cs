using System.Diagnostics;
using Folio.Core.Compute;
using Folio.Cpu;

namespace Folio.Benchmarks;

/// <summary>
/// The timing loop of <c>decode-read</c> and <c>gemm-step</c>: a step's MatMul weights multiplied in the model's order
/// (weights larger than the caches, so each comes from memory as in a step), two warm-up passes, then
/// <paramref name="passes"/> timed ones: each pass's wall and process CPU milliseconds, and the per-shape times of the
/// fastest pass (the one least disturbed on a shared machine).
/// </summary>
internal static class ModelOrderPasses
{
    public sealed record Result(double[] WallMs, double[] CpuMs, double FastestMs, double[] FastestPerShapeMs);

    /// <param name="weights">The weights in model order, each with its index into <paramref name="shapes"/>.</param>
    /// <param name="x">The input of k = 768 (index 0) and of k = 2048 (index 1).</param>
    /// <param name="y">One output per shape.</param>
    public static Result Run(CpuBackend backend, IReadOnlyList<(DeviceTensor W, int Shape)> weights,
        (int Out, int In)[] shapes, DeviceTensor[] x, DeviceTensor[] y, int passes)
    {
        var perShape = new double[shapes.Length];
        var fastestPerShape = new double[shapes.Length];
        double fastest = double.MaxValue;
        var wall = new List<double>();
        var cpu = new List<double>();
        using var process = Process.GetCurrentProcess();
        for (int pass = -2; pass < passes; pass++)
        {
            Array.Clear(perShape);
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            foreach (var (w, s) in weights)
            {
                long t = Stopwatch.GetTimestamp();
                backend.MatMul(x[shapes[s].In == 768 ? 0 : 1], w, null, y[s]);
                perShape[s] += Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            }
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            process.Refresh();
            if (pass < 0)
                continue;
            wall.Add(ms);
            cpu.Add((process.TotalProcessorTime - cpu0).TotalMilliseconds);
            if (ms < fastest)
            {
                fastest = ms;
                perShape.CopyTo(fastestPerShape, 0);
            }
        }
        return new Result([.. wall], [.. cpu], fastest, fastestPerShape);
    }
}
