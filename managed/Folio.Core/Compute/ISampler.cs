using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Compute;

/// <summary>
/// Sampling behind the backend (<see cref="IComputeBackend.CreateSampler"/>): turns the step's logits, still in
/// the backend's memory, into token ids and the log-probabilities the requests asked for. Only those come back to
/// the host: a GPU sampler never downloads [rows × vocabulary] logits. The sampler owns its scratch (reused every
/// step). <see cref="HostSampler"/> (over <see cref="LogitsSampler"/>) is the CPU implementation and the
/// reference every other sampler must match.
/// </summary>
public interface ISampler : IDisposable
{
    /// <summary>
    /// Samples logits row l (row l of <paramref name="logits"/>, [plan.NumLogitsRows, vocabulary]) with what
    /// <see cref="StepPlan.SamplingOf"/>(l) says of it, and writes <paramref name="outputs"/> from scratch: one
    /// entry per scheduled sequence, in plan order, holding its NumSamples tokens (sample i of a completing
    /// n-sample prompt drawn from stream i) or its NumBeamCandidates most likely tokens, best first; a sequence
    /// without a logits row (a prefill chunk) gets an empty entry.
    /// </summary>
    void Sample(StepContext step, DeviceTensor logits, StepPlan plan, StepOutputs outputs);
}
