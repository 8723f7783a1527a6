using System.Collections;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>
/// A step's <see cref="OutputDelta"/>s, kept column by column and reused from step to step. One delta per running
/// sequence per step makes this the engine's busiest store: an <see cref="OutputDelta"/> carries four references,
/// and storing such a struct into an array goes through the runtime's bulk write barrier (~25 ns here, measured);
/// single-reference columns take a few ns each. A sequence's delta stores only its sequence (the request is the
/// sequence's, and empty text is left null). The commonest delta — one new token of a sequence that computed a row
/// of the step's plan, no text, not finished — stores only that row number: no reference at all, so no write
/// barrier (~4 ns each here, once per running sequence per step), and its fields are read back from the plan's
/// sequence when asked for. Readers get <see cref="OutputDelta"/>s built on access.
/// </summary>
public sealed class OutputDeltas : IReadOnlyList<OutputDelta>
{
    // The plan whose rows the row deltas name: the scheduler's, one instance for its life, rewritten by the next
    // schedule — which is why the engine clears these deltas before it schedules (they are valid until the next step).
    private readonly StepPlan _plan;
    // Per delta: the plan row of a row delta, or -1 (the other columns hold it).
    private int[] _rows = new int[64];
    // Null where the delta has a sequence (its request is the sequence's); null text is "".
    private Request?[] _requests = new Request?[64];
    private Sequence?[] _sequences = new Sequence?[64];
    private string?[] _texts = new string?[64];
    private Entry[] _entries = new Entry[64];

    private readonly record struct Entry(int Index, int FirstNewToken, int NumNewTokens, FinishReason FinishReason);

    internal OutputDeltas(StepPlan plan) => _plan = plan;

    public int Count { get; private set; }

    public OutputDelta this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"the step has {Count} outputs.");
            int row = _rows[index];
            if (row >= 0)
            {
                // What AddRow recorded: one new token (the sequence's newest: nothing appends after postprocess
                // until the next step), no text, not finished then (a later abort ends it, and says so in the
                // request's end record, not here).
                var s = _plan.SequenceAt(row);
                return new OutputDelta(s.Request, s, s.Index, s.NumGenerated - 1, 1, "", FinishReason.None, null);
            }
            var e = _entries[index];
            var seq = _sequences[index];
            // A finished sequence's stop reason never changes again (only live sequences can be stopped or aborted).
            string? stopReason = seq is not null && e.FinishReason != FinishReason.None ? seq.StopReason : null;
            return new OutputDelta(seq?.Request ?? _requests[index]!, seq, e.Index, e.FirstNewToken, e.NumNewTokens,
                _texts[index] ?? "", e.FinishReason, stopReason);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void Add(Request request, Sequence? sequence, int index, int firstNewToken, int numNewTokens, string text, FinishReason finishReason)
    {
        int i = Count;
        if (i == _entries.Length)
            Grow();
        _rows[i] = -1;
        if (sequence is null)
            _requests[i] = request;
        else
            _sequences[i] = sequence;
        if (text.Length != 0)
            _texts[i] = text;
        _entries[i] = new Entry(index, firstNewToken, numNewTokens, finishReason);
        Count = i + 1;
    }

    /// <summary>
    /// Records the commonest delta: the sequence of plan row <paramref name="row"/> gained one token, adds no text
    /// and has not finished (the caller checked all three).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void AddRow(int row)
    {
        int i = Count;
        if (i == _entries.Length)
            Grow();
        _rows[i] = row;
        Count = i + 1;
    }

    /// <summary>Records <see cref="AddRow"/> for rows <paramref name="firstRow"/> .. <paramref name="firstRow"/> +
    /// <paramref name="count"/> - 1, in order (a run of the commonest delta, taken in one call).</summary>
    internal void AddRows(int firstRow, int count)
    {
        int i = Count;
        while (i + count > _entries.Length)
            Grow();
        var rows = _rows.AsSpan(i, count);
        for (int k = 0; k < rows.Length; k++)
            rows[k] = firstRow + k;
        Count = i + count;
    }

    /// <summary>Empties the list, dropping its references (nothing of the last step is kept alive).</summary>
    internal void Clear()
    {
        Array.Clear(_requests, 0, Count);
        Array.Clear(_sequences, 0, Count);
        Array.Clear(_texts, 0, Count);
        Count = 0;
    }

    private void Grow()
    {
        int size = _entries.Length * 2;
        Array.Resize(ref _rows, size);
        Array.Resize(ref _requests, size);
        Array.Resize(ref _sequences, size);
        Array.Resize(ref _texts, size);
        Array.Resize(ref _entries, size);
    }

    public Enumerator GetEnumerator() => new(this);
    IEnumerator<OutputDelta> IEnumerable<OutputDelta>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(OutputDeltas deltas) : IEnumerator<OutputDelta>
    {
        private int _index = -1;

        public readonly OutputDelta Current => deltas[_index];
        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => ++_index < deltas.Count;
        public void Reset() => _index = -1;
        public readonly void Dispose() { }
    }
}
