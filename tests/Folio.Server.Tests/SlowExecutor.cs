using Folio.Core.Engine;
using Folio.Core.Scheduling;
using Folio.Core.Sampling;

namespace Folio.Server.Tests;

/// <summary>The fake executor with a pause per step, so that a test can catch requests while they run or wait.</summary>
internal sealed class SlowExecutor(IModelExecutor inner, TimeSpan perStep) : IModelExecutor
{
    public StepOutputs Execute(StepPlan plan)
    {
        Thread.Sleep(perStep);
        return inner.Execute(plan);
    }
}
