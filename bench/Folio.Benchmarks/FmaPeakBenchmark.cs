using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Folio.Benchmarks;

/// <summary>
/// <c>fma-peak [THREADS]</c>: the machine's fp32 FMA ceiling, the bound a compute-bound MatMul (a prompt's) is measured
/// against. Each thread runs 16 independent FMA chains (enough to cover the FMA latency on any x86 core) on registers
/// only, in Vector512 where it is hardware-accelerated (as the MatMul tiles), else Vector256; prints the fastest of 7
/// rounds as GFLOP/s (2 flops per lane per FMA). On the Zen 4-class VM (CPUID family 25) Vector256 and Vector512 gave
/// the same ~116 GFLOP/s a thread: one 512-bit FMA a cycle, two 256-bit ones (bench/RESULTS.md).
/// </summary>
internal static class FmaPeakBenchmark
{
    private const long Iterations = 20_000_000;

    public static void Run(int threads)
    {
        Console.WriteLine($"fma-peak, {threads} thread(s), Vector512 accelerated {Vector512.IsHardwareAccelerated}; {DateTime.UtcNow:u}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        double gflops = MeasureGFlops(threads);
        Console.WriteLine($"fastest of 7 rounds: {gflops:F1} GFLOP/s ({gflops / threads:F1} a thread)");
    }

    /// <summary>The FMA ceiling on <paramref name="threads"/> threads in GFLOP/s: the fastest of 7 rounds (after one
    /// that compiles and starts the threads), each thread <see cref="Iterations"/> steps of 16 chains.</summary>
    public static double MeasureGFlops(int threads)
    {
        double best = double.MaxValue;
        float sink = 0f;
        for (int round = 0; round < 8; round++)
        {
            var results = new float[threads];
            long t = Stopwatch.GetTimestamp();
            var workers = Enumerable.Range(0, threads).Select(i => new Thread(() => results[i] = Vector512.IsHardwareAccelerated
                ? Chains(Iterations, 1f + i * 1e-7f) : Chains256(Iterations, 1f + i * 1e-7f))).ToArray();
            foreach (var w in workers)
                w.Start();
            foreach (var w in workers)
                w.Join();
            double s = Stopwatch.GetElapsedTime(t).TotalSeconds;
            sink += results.Sum();
            if (round > 0)
                best = Math.Min(best, s);
        }
        if (float.IsNaN(sink))   // never: the chains converge to finite values; the test keeps them live
            throw new InvalidOperationException("fma-peak chains diverged");
        int lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;
        return 2.0 * lanes * 16 * Iterations * threads / best / 1e9;
    }

    /// <summary>16 chains of a·b + c in Vector512 registers, Iterations steps each; the sum keeps the JIT from dropping them.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains(long iterations, float seed)
    {
        var a = Vector512.Create(0.999999f);
        var b = Vector512.Create(1e-7f * seed);
        Vector512<float> c0 = Vector512.Create(seed), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector512<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(a, c0, b); c1 = Vector512.FusedMultiplyAdd(a, c1, b);
            c2 = Vector512.FusedMultiplyAdd(a, c2, b); c3 = Vector512.FusedMultiplyAdd(a, c3, b);
            c4 = Vector512.FusedMultiplyAdd(a, c4, b); c5 = Vector512.FusedMultiplyAdd(a, c5, b);
            c6 = Vector512.FusedMultiplyAdd(a, c6, b); c7 = Vector512.FusedMultiplyAdd(a, c7, b);
            c8 = Vector512.FusedMultiplyAdd(a, c8, b); c9 = Vector512.FusedMultiplyAdd(a, c9, b);
            c10 = Vector512.FusedMultiplyAdd(a, c10, b); c11 = Vector512.FusedMultiplyAdd(a, c11, b);
            c12 = Vector512.FusedMultiplyAdd(a, c12, b); c13 = Vector512.FusedMultiplyAdd(a, c13, b);
            c14 = Vector512.FusedMultiplyAdd(a, c14, b); c15 = Vector512.FusedMultiplyAdd(a, c15, b);
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15));
        return Vector512.Sum(s);
    }

    /// <summary>The same 16 chains in Vector256 registers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains256(long iterations, float seed)
    {
        var a = Vector256.Create(0.999999f);
        var b = Vector256.Create(1e-7f * seed);
        Vector256<float> c0 = Vector256.Create(seed), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector256<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(a, c0, b); c1 = Vector256.FusedMultiplyAdd(a, c1, b);
            c2 = Vector256.FusedMultiplyAdd(a, c2, b); c3 = Vector256.FusedMultiplyAdd(a, c3, b);
            c4 = Vector256.FusedMultiplyAdd(a, c4, b); c5 = Vector256.FusedMultiplyAdd(a, c5, b);
            c6 = Vector256.FusedMultiplyAdd(a, c6, b); c7 = Vector256.FusedMultiplyAdd(a, c7, b);
            c8 = Vector256.FusedMultiplyAdd(a, c8, b); c9 = Vector256.FusedMultiplyAdd(a, c9, b);
            c10 = Vector256.FusedMultiplyAdd(a, c10, b); c11 = Vector256.FusedMultiplyAdd(a, c11, b);
            c12 = Vector256.FusedMultiplyAdd(a, c12, b); c13 = Vector256.FusedMultiplyAdd(a, c13, b);
            c14 = Vector256.FusedMultiplyAdd(a, c14, b); c15 = Vector256.FusedMultiplyAdd(a, c15, b);
        }
        var s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)) + ((c12 + c13) + (c14 + c15));
        return Vector256.Sum(s);
    }
}
