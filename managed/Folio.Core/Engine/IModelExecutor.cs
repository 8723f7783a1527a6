using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>
/// The seam to the model: runs one step plan (swaps, copies, the forward pass over the scheduled tokens with
/// their slots, sampling) and returns the sampled tokens. Implementations: the real model on a backend, or
/// <see cref="FakeExecutor"/> for tests and scheduler benchmarks.
/// </summary>
public interface IModelExecutor
{
    /// <summary>Executes <paramref name="plan"/>; the returned outputs are valid until the next call.</summary>
    StepOutputs Execute(StepPlan plan);
}
