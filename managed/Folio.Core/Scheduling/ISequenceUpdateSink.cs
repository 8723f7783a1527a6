namespace Folio.Core.Scheduling;

/// <summary>
/// Receives what <see cref="Scheduler.Postprocess(Sampling.StepOutputs)"/> does, as it applies each sample: the
/// same records as <see cref="SequenceUpdate"/>, in the same order, but handed over at once, so that the engine's
/// output processor works in the scheduler's one pass over the batch instead of reading a list back in a second
/// pass. A callback may end a sequence by stop string (<see cref="Scheduler.StopByString"/>).
/// </summary>
internal interface ISequenceUpdateSink
{
    /// <summary><paramref name="sequence"/> gained its last <paramref name="numNewTokens"/> tokens; the token-level
    /// stop rules are applied (it may have finished). <paramref name="planRow"/>: the sequence's row in the step's
    /// plan, or -1 when it has none (a sequence forked in this step).</summary>
    void TokensAdded(Request request, Sequence sequence, int numNewTokens, int planRow);

    /// <summary>
    /// Whether the sink takes the commonest updates in runs (<see cref="RowsAdded"/>): when true, a sequence of plan
    /// row r that gained exactly one token and did not finish may be reported in a run instead of by
    /// <see cref="TokensAdded"/>. The runs and the single calls still arrive in the order of the plan's rows. Read
    /// once per postprocess; false for a sink that needs to see every token (text, stop strings).
    /// </summary>
    bool TakesRowRuns { get; }

    /// <summary>The sequences of plan rows <paramref name="firstRow"/> .. <paramref name="firstRow"/> +
    /// <paramref name="count"/> - 1 each gained one token and none finished (only when <see cref="TakesRowRuns"/>):
    /// one call for what would be <paramref name="count"/> calls of <see cref="TokensAdded"/>.</summary>
    void RowsAdded(int firstRow, int count);

    /// <summary>The request's last live sequence finished in this postprocess.</summary>
    void RequestFinished(Request request);
}
