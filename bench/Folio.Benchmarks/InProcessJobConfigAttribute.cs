using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Folio.Benchmarks;

/// <summary>Runs every job of the class in process: the machine is small and shared, so no generated project build.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class InProcessJobConfigAttribute : Attribute, IConfigSource
{
    public InProcessJobConfigAttribute()
        => Config = ManualConfig.CreateEmpty().AddJob(Job.InProcess.WithToolchain(InProcessEmitToolchain.Instance).AsMutator());

    public IConfig Config { get; }
}
