namespace Folio.Core.Engine;

/// <summary>What one step asked of the <see cref="FakeExecutor"/> (when it records).</summary>
public sealed record FakeStepRecord(
    long StepIndex,
    IReadOnlyList<FakeStepRecord.Entry> Entries,
    int NumBlockCopies,
    int NumSwapOut,
    int NumSwapIn)
{
    /// <summary>A scheduled sequence: positions [StartPosition, StartPosition + NumTokens), samples/candidates asked.</summary>
    public readonly record struct Entry(long SequenceId, long RequestId, int StartPosition, int NumTokens, int NumSamples, int NumBeamCandidates);
}
