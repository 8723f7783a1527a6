using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Server;

/// <summary>An executor with a pause per step: the fake model given a model's step time (<c>folio serve --model
/// fake --fake-step-ms N</c>, so that requests stay long enough to watch on /kv; tests that catch requests while
/// they run or wait).</summary>
public sealed class StepDelayExecutor(IModelExecutor inner, TimeSpan perStep) : IModelExecutor
{
    public StepOutputs Execute(StepPlan plan)
    {
        Thread.Sleep(perStep);
        return inner.Execute(plan);
    }
}
