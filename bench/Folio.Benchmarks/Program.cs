using BenchmarkDotNet.Running;

namespace Folio.Benchmarks;

public static class Program
{
    /// <summary>Runs the benchmarks picked by BenchmarkDotNet's arguments (e.g. <c>--filter '*KvCache*'</c>).</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
