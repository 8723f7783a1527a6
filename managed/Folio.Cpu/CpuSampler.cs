using Folio.Core.Compute;
using Folio.Core.Sampling;

namespace Folio.Cpu;

/// <summary>The reference sampler reading the logits where the CPU backend computed them (no download copy), a
/// step's rows spread over the backend's own threads (its <see cref="ParallelRunner"/>: no second pool), and a step's
/// only row's exponentials over the same threads.</summary>
internal sealed class CpuSampler(CpuBackend backend, ParallelRunner runner, SamplerSettings settings)
    : HostSampler(backend, settings, runner.Threads, new RunnerRowChunks(runner))
{
    protected override ReadOnlyMemory<float> HostLogits(DeviceTensor logits)
    {
        var t = CpuBackend.T(logits);
        return t.Data.AsMemory(0, t.Rows * t.Cols);
    }

    protected override void RunWorkers(int workers, long work) =>
        runner.For(workers, work, this, static (sampler, w) => sampler.SampleRows(w));
}
