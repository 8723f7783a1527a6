using BenchmarkDotNet.Running;

namespace Folio.Benchmarks;

public static class Program
{
    /// <summary>
    /// Runs the benchmarks picked by BenchmarkDotNet's arguments (e.g. <c>--filter '*KvCache*'</c>), or with
    /// <c>cputime</c> the same methods timed by process CPU time (for a shared machine).
    /// </summary>
    public static void Main(string[] args)
    {
        if (args is ["cputime"])
            CpuTimeHarness.Run();
        else
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
