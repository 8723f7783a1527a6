namespace Folio.Core.Simulation;

/// <summary>Sums <see cref="StepBreakdown"/>s over the saturated steps and turns them into time averages.</summary>
public sealed class MemoryTally(long capacitySlots)
{
    private long _steps;
    private long _tokenStates, _reserved, _internalFrag, _externalFrag, _batch;

    public long Steps => _steps;

    public void Add(in StepBreakdown step)
    {
        if (step.TotalSlots != capacitySlots)
            throw new InvalidOperationException($"a step accounts for {step.TotalSlots} slots, the capacity is {capacitySlots}");
        _steps++;
        _tokenStates += step.TokenStateSlots;
        _reserved += step.ReservedSlots;
        _internalFrag += step.InternalFragSlots;
        _externalFrag += step.ExternalFragSlots;
        _batch += step.BatchSize;
    }

    public PolicyResult ToResult(PolicySpec policy, int completedRequests, int preemptions)
    {
        double slotSteps = (double)_steps * capacitySlots;
        double Pct(long sum) => _steps == 0 ? 0 : 100.0 * sum / slotSteps;
        return new PolicyResult(policy, _steps, Pct(_tokenStates), Pct(_reserved), Pct(_internalFrag),
            Pct(_externalFrag), _steps == 0 ? 0 : (double)_batch / _steps, completedRequests, preemptions);
    }
}
