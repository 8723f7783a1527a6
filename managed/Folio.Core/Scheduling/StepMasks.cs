namespace Folio.Core.Scheduling;

/// <summary>
/// Computes the structured-output masks of a step's logits rows, one sequence per worker in parallel, on the
/// thread pool: an executor starts it before its forward pass and waits before sampling, so the masks are
/// computed while the model runs.
/// </summary>
public static class StepMasks
{
    /// <summary>Starts computing every row's mask; the task completes at once when no row has a structured output.</summary>
    public static Task Start(StepPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        int rows = plan.NumLogitsRows;
        int first = -1, count = 0;
        for (int l = 0; l < rows; l++)
        {
            if (plan.SamplingOf(l).NeedsMask)
            {
                if (first < 0)
                    first = l;
                count++;
            }
        }
        return count == 0 ? Task.CompletedTask : Run(plan, first, count);
    }

    // Apart from Start: lambdas capture their variables in an object made on entry to the method that declares
    // them, so Start itself would allocate on every step, structured outputs or not.
    private static Task Run(StepPlan plan, int first, int count)
    {
        if (count == 1)
            return Task.Run(() => plan.SamplingOf(first).ComputeMask());
        int rows = plan.NumLogitsRows;
        return Task.Run(() => Parallel.For(first, rows, l => plan.SamplingOf(l).ComputeMask()));
    }
}
