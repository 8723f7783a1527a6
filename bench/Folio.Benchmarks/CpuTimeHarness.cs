using System.Diagnostics;

namespace Folio.Benchmarks;

/// <summary>
/// The same benchmark methods timed by process CPU time as well as wall time (<c>-- cputime</c>). On a
/// shared, oversubscribed machine the wall time of a long run includes the time other processes held the
/// core; CPU time does not. Each scenario runs ~1.5 s first (tier-1 JIT with PGO), then 15 rounds; the
/// median round is reported.
/// </summary>
internal static class CpuTimeHarness
{
    private sealed record Scenario(string Name, Action Setup, Action? RoundSetup, Func<long> Call, int OpsPerCall, int CallsPerRound);

    public static void Run()
    {
        var alloc = new KvCacheAllocateBenchmarks();
        var append16 = new KvCacheAppendBenchmarks { BlockSize = 16 };
        var append4096 = new KvCacheAppendBenchmarks { BlockSize = 4096 };
        Scenario[] scenarios =
        [
            new("FlatArrayBaseline (block 16 run)", append16.Setup, append16.NewSequence, () => append16.FlatArrayBaseline(), 4096, 64),
            new("AppendSlot block 16", append16.Setup, append16.NewSequence, () => append16.AppendSlot(), 4096, 64),
            new("AppendSlot block 4096", append4096.Setup, append4096.NewSequence, () => append4096.AppendSlot(), 4096, 64),
            new("HashPromptBaseline", alloc.SetupMiss, null, () => (long)alloc.HashPromptBaseline(), 1, 2000),
            new("Allocate 2048 Miss", alloc.SetupMiss, null, () => alloc.Miss(), 1, 2000),
            new("Allocate 2048 MissThenCache", alloc.SetupMiss, null, () => alloc.MissThenCache(), 1, 2000),
            new("Allocate 2048 FullHitShared", alloc.SetupHitShared, null, () => alloc.FullHitShared(), 1, 2000),
            new("Allocate 2048 FullHitRevive", alloc.SetupHitRevive, null, () => alloc.FullHitRevive(), 1, 2000),
        ];
        Console.WriteLine($"{"scenario",-34} {"CPU ns/op",12} {"wall ns/op",12} {"wall/CPU",9}");
        foreach (Scenario s in scenarios)
        {
            s.Setup();
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 1500)
                RunRound(s);
            var cpu = new List<double>();
            var wall = new List<double>();
            for (int r = 0; r < 15; r++)
            {
                (double c, double w) = RunRound(s);
                cpu.Add(c);
                wall.Add(w);
            }
            cpu.Sort();
            wall.Sort();
            Console.WriteLine($"{s.Name,-34} {cpu[7],12:F1} {wall[7],12:F1} {wall[7] / cpu[7],9:F2}");
        }
    }

    private static (double CpuNsPerOp, double WallNsPerOp) RunRound(Scenario s)
    {
        s.RoundSetup?.Invoke();
        using Process self = Process.GetCurrentProcess();
        TimeSpan cpu0 = self.TotalProcessorTime;
        long t0 = Stopwatch.GetTimestamp();
        long sink = 0;
        for (int i = 0; i < s.CallsPerRound; i++)
            sink += s.Call();
        long t1 = Stopwatch.GetTimestamp();
        self.Refresh();
        TimeSpan cpu = self.TotalProcessorTime - cpu0;
        GC.KeepAlive(sink);
        double ops = (double)s.CallsPerRound * s.OpsPerCall;
        return (cpu.TotalNanoseconds / ops, (t1 - t0) * 1e9 / Stopwatch.Frequency / ops);
    }
}
