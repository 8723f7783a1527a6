namespace Folio.Structured.MaskBench;

/// <summary>One case's outcome and timings (microseconds).</summary>
public sealed record MaskBenchCaseResult(string Name, string Category, MaskBenchOutcome Outcome, string? Detail, double TtfmUs, IReadOnlyList<double> TbmUs);
