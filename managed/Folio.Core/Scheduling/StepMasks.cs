namespace Folio.Core.Scheduling;

/// <summary>
/// Computes the structured-output masks of a step's logits rows, one sequence per worker in parallel, on the
/// thread pool: an executor starts it before its forward pass and waits before sampling, so the masks are
/// computed while the model runs.
/// </summary>
public static class StepMasks
{
    /// <summary>Starts computing every row's mask; the task completes at once when no row has a structured output.
    /// With <paramref name="timer"/>, each row's mask time is added to it (CPU seconds of masks, whatever overlapped).</summary>
    public static Task Start(StepPlan plan, MaskTimer? timer = null)
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
        return count == 0 ? Task.CompletedTask : Run(plan, first, count, timer);
    }

    // Apart from Start: lambdas capture their variables in an object made on entry to the method that declares
    // them, so Start itself would allocate on every step, structured outputs or not.
    private static Task Run(StepPlan plan, int first, int count, MaskTimer? timer)
    {
        if (count == 1)
            return Task.Run(() => Compute(plan.SamplingOf(first), timer));
        int rows = plan.NumLogitsRows;
        return Task.Run(() => Parallel.For(first, rows, l => Compute(plan.SamplingOf(l), timer)));
    }

    private static void Compute(SamplingRow row, MaskTimer? timer)
    {
        if (timer is null || !row.NeedsMask)
        {
            row.ComputeMask();
            return;
        }
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        row.ComputeMask();
        timer.Add(System.Diagnostics.Stopwatch.GetTimestamp() - start);
    }
}

/// <summary>Sums the time of structured-output masks (rows computed in parallel each add their own), thread-safe.</summary>
public sealed class MaskTimer
{
    private long _ticks, _masks;

    public void Add(long stopwatchTicks)
    {
        Interlocked.Add(ref _ticks, stopwatchTicks);
        Interlocked.Increment(ref _masks);
    }

    public double Seconds => System.Diagnostics.Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks)).TotalSeconds;
    public long Masks => Interlocked.Read(ref _masks);
}
