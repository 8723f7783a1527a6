namespace Folio.Structured.MaskBench;

/// <summary>
/// One of the slowest masks of a run, to find what makes the tail: the case, which test instance (0-based) and token
/// position (-1: the first mask, timed with compilation as TTFM), its time, the trie walks built during it (first
/// visits of a residual; <paramref name="WalkUs"/> of the time), the garbage collections' pause inside it (<paramref name="GcUs"/>)
/// and the parse state it was computed in
/// (<see cref="GrammarMatcher.DescribeState"/>; for a first mask, the compile time).
/// </summary>
public sealed record MaskBenchSlowMask(string Case, int Instance, int Position, double Us, long Walks, double WalkUs, double GcUs, string State);
