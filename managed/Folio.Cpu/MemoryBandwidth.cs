using System.Diagnostics;
using System.Numerics.Tensors;

namespace Folio.Cpu;

/// <summary>Measures the machine's read bandwidth the way a decode step reads weights: every thread summing
/// its share of a buffer far larger than the caches, best of several passes.</summary>
public static class MemoryBandwidth
{
    public static double MeasureReadGBps(int threads, int megabytes = 512, int passes = 5)
    {
        var buffer = new float[megabytes / 4 * 1024 * 1024];
        for (int i = 0; i < buffer.Length; i += 1024)
            buffer[i] = 1;   // touch every page so the first pass does not count page faults
        double best = 0;
        var sums = new float[threads];
        for (int pass = 0; pass < passes; pass++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int share = buffer.Length / threads;
                sums[t] = TensorPrimitives.Sum(buffer.AsSpan(t * share, share));
            });
            best = Math.Max(best, buffer.Length * 4.0 / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }
}
