namespace Folio.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>
    /// Applies the executor's outputs for the last plan (<see cref="SampleApplier"/>): caches newly full blocks,
    /// appends sampled tokens (forking the n samples of a completed prompt, stepping beams), applies the
    /// token-level stop rules, frees finished sequences and records the incremental outputs in <see cref="Updates"/>.
    /// </summary>
    public void Postprocess(Sampling.StepOutputs outputs) => Postprocess(outputs, _updateList);

    /// <summary>
    /// <see cref="Postprocess(Sampling.StepOutputs)"/> handing each update to <paramref name="sink"/> as it happens
    /// (the engine's output processor, in the same pass) instead of recording it in <see cref="Updates"/>.
    /// </summary>
    internal void Postprocess(Sampling.StepOutputs outputs, ISequenceUpdateSink sink)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        int finishedWidth = _samples.Apply(_plan, outputs, sink, _finishedGroups);
        if (finishedWidth == 0)
            return;
        _reservedSeqs -= finishedWidth;
        _running.RemoveFinished(_finishedGroups);
        _finishedGroups.Clear();
    }

    /// <summary>Records updates in <see cref="Updates"/>, for callers of the public <see cref="Postprocess(Sampling.StepOutputs)"/>.</summary>
    private sealed class UpdateList(List<SequenceUpdate> updates) : ISequenceUpdateSink
    {
        public void TokensAdded(Request request, Sequence sequence, int numNewTokens, int planRow) => updates.Add(new SequenceUpdate(request, sequence, numNewTokens));
        public void RequestFinished(Request request) => updates.Add(new SequenceUpdate(request, null, 0));
        public bool TakesRowRuns => false;
        public void RowsAdded(int firstRow, int count) => throw new InvalidOperationException("the update list takes no row runs.");
    }
}
