namespace Folio.Structured.MaskBench;

/// <summary>Counts and percentiles over a set of case results (one category or all).</summary>
public sealed record MaskBenchSummary(string Category, int Cases, int Passing, int CompileErrors, int ValidationErrors,
    int InvalidationErrors, int Crashes, int Timeouts, double TbmP50Us, double TbmP99Us, double TbmP999Us, double TtfmP50Us, double TtfmP99Us, long Masks)
{
    public static MaskBenchSummary Of(string category, IReadOnlyList<MaskBenchCaseResult> results)
    {
        int Count(MaskBenchOutcome o) => results.Count(r => r.Outcome == o);
        var tbm = results.SelectMany(r => r.TbmUs).ToArray();
        Array.Sort(tbm);
        // TTFM over cases that compiled (a compile error has no first mask).
        var ttfm = results.Where(r => r.Outcome is not (MaskBenchOutcome.CompileError or MaskBenchOutcome.Crash)).Select(r => r.TtfmUs).ToArray();
        Array.Sort(ttfm);
        return new(category, results.Count, Count(MaskBenchOutcome.Passing), Count(MaskBenchOutcome.CompileError),
            Count(MaskBenchOutcome.ValidationError), Count(MaskBenchOutcome.InvalidationError), Count(MaskBenchOutcome.Crash),
            Count(MaskBenchOutcome.Timeout), Pct(tbm, 0.5), Pct(tbm, 0.99), Pct(tbm, 0.999), Pct(ttfm, 0.5), Pct(ttfm, 0.99), tbm.Length);
    }

    /// <summary>Nearest-rank percentile of sorted values (0 when empty).</summary>
    public static double Pct(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
