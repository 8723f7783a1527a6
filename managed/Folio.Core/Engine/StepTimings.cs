using System.Diagnostics;

namespace Folio.Core.Engine;

/// <summary>Cumulative wall-clock time of the phases of <see cref="LlmEngine.Step"/> (Stopwatch ticks).</summary>
public readonly record struct StepTimings(long Steps, long ScheduleTicks, long ExecuteTicks, long PostprocessTicks)
{
    public static double TicksToMicroseconds(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    /// <summary>The time spent between <paramref name="earlier"/> and this.</summary>
    public StepTimings Since(StepTimings earlier) => new(Steps - earlier.Steps, ScheduleTicks - earlier.ScheduleTicks,
        ExecuteTicks - earlier.ExecuteTicks, PostprocessTicks - earlier.PostprocessTicks);
}
