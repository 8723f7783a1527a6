using System.Diagnostics;
using System.Numerics.Tensors;

namespace Folio.Cpu;

/// <summary>
/// Measures the machine's read bandwidth the way a decode step reads weights: every thread summing its share of a
/// buffer far larger than the caches, best of several passes. The buffer is on huge pages where the OS gives them, as
/// the packed weights are (<see cref="HugePages"/>): on 4 KiB pages a plain sum took 1.01–1.09× the time on the Zen
/// 4 VM (<c>bench/cpu_stream_model.c pages</c>, pages alternated pass by pass; bench/RESULTS.md), and a bound measured
/// there would flatter every kernel compared with it. One probe holds its buffer until it is dropped, so that a
/// benchmark that measures before and after a timed run (<c>folio bench --bandwidth</c>) frees nothing in between (a
/// 512 MB buffer had been collected just before the run: b8's int4 batch-1 figures after that ranged 270–487 tok/s
/// against 471–497 with no probe, on the same build; the cause was not isolated, bench/RESULTS.md).
/// </summary>
public sealed class MemoryBandwidth(int threads, int megabytes = 512)
{
    private readonly float[] _buffer = Touched(HugePages.NewArray<float>(megabytes / 4 * 1024 * 1024));

    /// <summary>A one-off measurement (its buffer is garbage afterwards).</summary>
    public static double MeasureReadGBps(int threads, int megabytes = 512, int passes = 5) =>
        new MemoryBandwidth(threads, megabytes).MeasureReadGBps(passes);

    /// <summary>GB/s of the fastest of <paramref name="passes"/> passes over the buffer.</summary>
    public double MeasureReadGBps(int passes = 5)
    {
        double best = 0;
        var sums = new float[threads];
        for (int pass = 0; pass < passes; pass++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int share = _buffer.Length / threads;
                sums[t] = TensorPrimitives.Sum(_buffer.AsSpan(t * share, share));
            });
            best = Math.Max(best, _buffer.Length * 4.0 / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>Every page written once, so that no pass counts page faults.</summary>
    private static float[] Touched(float[] buffer)
    {
        for (int i = 0; i < buffer.Length; i += 1024)
            buffer[i] = 1;
        return buffer;
    }
}
