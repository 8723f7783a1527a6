namespace Folio.Structured.MaskBench;

/// <summary>How one MaskBench case ended, as MaskBench scores it.</summary>
public enum MaskBenchOutcome
{
    Passing,
    CompileError,
    /// <summary>A token of a valid instance was masked out (or the instance could not end).</summary>
    ValidationError,
    /// <summary>An invalid instance was accepted to its end.</summary>
    InvalidationError,
    /// <summary>An exception other than a compile error.</summary>
    Crash,
    /// <summary>Compilation took longer than the limit (measured, not interrupted).</summary>
    Timeout,
}
