using Folio.Core.Compute;
using Folio.Core.Sampling;

namespace Folio.Cpu;

/// <summary>The reference sampler reading the logits where the CPU backend computed them (no download copy).</summary>
internal sealed class CpuSampler(CpuBackend backend, SamplerSettings settings) : HostSampler(backend, settings)
{
    protected override ReadOnlySpan<float> HostLogits(DeviceTensor logits) => CpuBackend.T(logits).Span;
}
