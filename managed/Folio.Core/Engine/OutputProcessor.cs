using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Folio.Core.Engine;

/// <summary>
/// Turns the scheduler's token-level updates into outputs, and keeps the request book. Per step it detokenizes
/// each new token (<see cref="ITextDecoder"/>), looks for stop strings (a match ends the sequence through
/// <see cref="Scheduler.StopByString"/>, which frees its blocks at once; the string and what follows never leave),
/// holds back text that could still begin a stop string, assembles the step's <see cref="OutputDelta"/>s (n
/// samples as they go, beams at their end) and each request's last record, and hands per-request
/// <see cref="RequestOutput"/>s to the open <see cref="RequestStream"/>s. Not thread-safe: its owner serialises calls.
/// </summary>
public sealed class OutputProcessor : ISequenceUpdateSink
{
    private readonly Scheduler _scheduler;
    private readonly ITextDecoder? _decoder;
    private readonly ILogger _logger;
    private readonly int _eosTokenId;
    // The request book: every request added whose last record has not gone out yet (aborted and rejected
    // requests stay until the step that delivers their end).
    private readonly Dictionary<long, Request> _unfinished = [];
    private readonly Dictionary<long, RequestStream> _streams = [];
    private readonly List<Request> _endsOwed = [];
    private readonly OutputDeltas _deltas;
    private readonly List<RequestStream> _touched = [];
    private long _promptTokens;
    private long _generatedTokens;

    public OutputProcessor(Scheduler scheduler, ITextDecoder? decoder, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        _scheduler = scheduler;
        _decoder = decoder;
        _logger = logger ?? NullLogger.Instance;
        _eosTokenId = scheduler.Options.EosTokenId;
        _deltas = new OutputDeltas(scheduler.Plan);
    }

    /// <summary>Whether a request was added whose last record has not been delivered yet.</summary>
    public bool HasUnfinished => _unfinished.Count > 0;

    /// <summary>The deltas of the last <see cref="EndStep"/> (reused: valid until the next step).</summary>
    public IReadOnlyList<OutputDelta> Deltas => _deltas;

    public TokenCounts Counts => new(_promptTokens, _generatedTokens);

    /// <summary>The request book: every request added whose last record has not gone out (the KV map walks it).</summary>
    internal IEnumerable<Request> Unfinished => _unfinished.Values;

    public bool TryGetUnfinished(long requestId, out Request request) => _unfinished.TryGetValue(requestId, out request!);

    /// <summary>Books a request the scheduler accepted, or rejected (its end then goes out with the next step).</summary>
    public void Add(Request request)
    {
        _unfinished.Add(request.Id, request);
        _promptTokens += request.PromptLength;
        if (request.IsFinished)
            _endsOwed.Add(request);
    }

    /// <summary>Opens the output stream of a booked request whose end has not been delivered yet.</summary>
    public void Attach(RequestStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!_unfinished.ContainsKey(stream.Request.Id))
            throw new InvalidOperationException($"{stream.Request} is not booked, or its end was delivered.");
        _streams.Add(stream.Request.Id, stream);
    }

    /// <summary>Books a request the scheduler just aborted: its end goes out with the next step.</summary>
    public void Aborted(Request request) => _endsOwed.Add(request);

    /// <summary>Drops the last step's deltas before the next plan is made: some name rows of the plan that the
    /// schedule is about to rewrite.</summary>
    internal void ClearDeltas() => _deltas.Clear();

    /// <summary>Starts a step's outputs: ends owed since the last step go first.</summary>
    public void BeginStep()
    {
        _deltas.Clear();
        EmitOwedEnds();
    }

    /// <summary>Processes the scheduler's updates of the step just postprocessed (the engine itself hands them over
    /// one by one, as <see cref="Scheduler"/>'s postprocess makes them: <see cref="ISequenceUpdateSink"/>).</summary>
    public void Process(ReadOnlySpan<SequenceUpdate> updates)
    {
        for (int i = 0; i < updates.Length; i++)
        {
            ref readonly var u = ref updates[i];
            if (u.Sequence is { } seq)
                TokensAdded(u.Request, seq, u.NumNewTokens, -1);
            else
                RequestFinished(u.Request);
        }
    }

    void ISequenceUpdateSink.TokensAdded(Request request, Sequence sequence, int numNewTokens, int planRow)
    {
        if (ProcessTokens(request, sequence, numNewTokens, planRow))
            EmitEnd(request);
    }

    void ISequenceUpdateSink.RequestFinished(Request request) => RequestFinished(request);

    // Without a decoder a plain one-token update makes a row delta and nothing else, so runs of them come as one call.
    bool ISequenceUpdateSink.TakesRowRuns => _decoder is null;

    void ISequenceUpdateSink.RowsAdded(int firstRow, int count)
    {
        _generatedTokens += count;
        _deltas.AddRows(firstRow, count);
    }

    private void TokensAdded(Request request, Sequence seq, int numNew, int planRow)
    {
        if (ProcessTokens(request, seq, numNew, planRow))
            EmitEnd(request);
    }

    private void RequestFinished(Request request)
    {
        if (request.UseBeamSearch && request.FinishReason == FinishReason.None)
            EmitBeams(request);
        EmitEnd(request);
    }

    /// <summary>Ends the step's outputs (ends owed since <see cref="BeginStep"/> last) and feeds the streams.</summary>
    public IReadOnlyList<OutputDelta> EndStep()
    {
        EmitOwedEnds();
        if (_streams.Count > 0)
            Publish();
        return _deltas;
    }

    /// <summary>
    /// Detokenizes a sequence's new tokens, applies the stop strings and records the delta. Returns true when a
    /// stop string ended the request (its last live sequence). Inlined into the per-token callback: without a
    /// decoder (token ids only) this is all the step does per sequence here.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool ProcessTokens(Request g, Sequence seq, int numNew, int planRow)
    {
        _generatedTokens += numNew;
        bool endedRequest = false;
        string text = "";
        if (_decoder is not null)
            text = DecodeNewText(g, seq, numNew, out endedRequest);
        bool finished = seq.IsFinished;
        if (numNew == 1 && planRow >= 0 && !finished && text.Length == 0)
            _deltas.AddRow(planRow);   // the commonest delta, stored as the row's number (see OutputDeltas)
        else
            _deltas.Add(g, seq, seq.Index, seq.NumGenerated - numNew, numNew, text, finished ? seq.FinishReason : FinishReason.None);
        return endedRequest;
    }

    /// <summary>Appends the new tokens' text, ends the sequence on a stop string (<paramref name="endedRequest"/>: that
    /// ended the request) and returns the text that may go out now.</summary>
    private string DecodeNewText(Request g, Sequence seq, int numNew, out bool endedRequest)
    {
        endedRequest = false;
        var sb = seq.Text;
        int first = seq.NumGenerated - numNew;
        for (int t = first; t < seq.NumGenerated; t++)
        {
            if (IsEosStop(seq, t))
                continue;   // EOS ends the sequence and adds no text
            int before = sb.Length;
            sb.Append(_decoder!.DecodeLast(seq.GeneratedTokens[..(t + 1)]));
            bool stoppedByToken = seq.IsFinished && seq.FinishReason == FinishReason.Stop;
            if (seq.Group.HasStopStrings && !stoppedByToken && t + 1 >= seq.Group.Stops.MinTokens)
            {
                int at = StopConditions.FindStopString(g.Params, sb, before, out string? matched);
                if (at >= 0)
                {
                    sb.Length = at;   // as vLLM: the stop string and anything after it leave the output text
                    endedRequest = _scheduler.StopByString(seq, matched!);
                    break;            // tokens after it in this update (fast-forward) add no text either
                }
            }
        }
        return TakeVisible(g, seq);
    }

    private bool IsEosStop(Sequence seq, int t) =>
        t == seq.NumGenerated - 1 && seq.IsFinished && seq.FinishReason == FinishReason.Stop && seq.StopReason is null
        && seq.GeneratedTokens[t] == _eosTokenId;

    /// <summary>
    /// The text not yet handed out, less what could still begin a stop string while the sequence runs (whole
    /// UTF-16 characters only).
    /// </summary>
    private static string TakeVisible(Request g, Sequence seq)
    {
        var sb = seq.Text;
        int visible = sb.Length;
        if (!seq.IsFinished && seq.Group.HasStopStrings)
            visible -= StopStrings.HeldBack(sb, g.Params.Stop);
        if (visible > 0 && visible < sb.Length && char.IsHighSurrogate(sb[visible - 1]))
            visible--;
        int emitted = seq.EmittedChars;
        if (visible <= emitted)
            return "";
        seq.EmittedChars = visible;
        return sb.ToString(emitted, visible - emitted);
    }

    /// <summary>A finished beam search: each kept beam, best first, with all its tokens and its whole text.</summary>
    private void EmitBeams(Request g)
    {
        var beams = g.Sequences;
        for (int i = 0; i < beams.Count; i++)
        {
            var beam = beams[i];
            string text = "";
            if (_decoder is not null)
            {
                var sb = beam.Text;
                sb.Clear();
                for (int t = 0; t < beam.NumGenerated; t++)
                {
                    if (!IsEosStop(beam, t))
                        sb.Append(_decoder.DecodeLast(beam.GeneratedTokens[..(t + 1)]));
                }
                beam.EmittedChars = sb.Length;
                text = sb.ToString();
            }
            _deltas.Add(g, beam, i, 0, beam.NumGenerated, text, beam.FinishReason);
        }
    }

    private void EmitOwedEnds()
    {
        for (int i = 0; i < _endsOwed.Count; i++)
            EmitEnd(_endsOwed[i]);
        _endsOwed.Clear();
    }

    private void EmitEnd(Request g)
    {
        var seqs = g.Sequences;
        var reason = g.FinishReason != FinishReason.None || seqs.Count == 0 ? g.FinishReason : seqs[0].FinishReason;
        _deltas.Add(g, null, -1, 0, 0, "", reason);
        if (!_unfinished.Remove(g.Id))
            throw new InvalidOperationException($"{g} ended twice, or was never booked.");
        // Rejections are logged when they happen (at add); aborts are the host's own doing.
        if (g.FinishReason == FinishReason.None && _logger.IsEnabled(LogLevel.Debug))
            EngineLog.RequestFinished(_logger, g.Id, reason);
    }

    /// <summary>One <see cref="RequestOutput"/> per streamed request that this step touched.</summary>
    private void Publish()
    {
        for (int i = 0; i < _deltas.Count; i++)
        {
            var d = _deltas[i];
            if (!_streams.TryGetValue(d.Request.Id, out var stream))
                continue;
            if (!stream.Touched)
            {
                stream.Touched = true;
                _touched.Add(stream);
            }
            if (d.Sequence is { } seq)
            {
                stream.AddPending(new CompletionOutput(d.Index, d.NewTokenIds.ToArray(), d.Text, seq.CumulativeLogProb,
                    d.NewLogprobs?.ToArray(), d.FinishReason, d.StopReason, seq.BeamScore));
            }
            else
            {
                stream.MarkEnded();
                _streams.Remove(d.Request.Id);
            }
        }
        for (int i = 0; i < _touched.Count; i++)
        {
            var stream = _touched[i];
            stream.Flush(stream.Ended ? Snapshot(stream.Request) : null);
        }
        _touched.Clear();
    }

    /// <summary>
    /// A request's outputs so far (for a finished request, its final outputs): whole token lists and the text
    /// handed out so far (held-back text is not output, and an aborted sequence's never is), so a snapshot's text
    /// is always what the sequence's deltas concatenate to. Beams best first; samples by index.
    /// </summary>
    public RequestOutput Snapshot(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var seqs = request.Sequences;
        bool beams = request.UseBeamSearch;
        var outs = new CompletionOutput[seqs.Count];
        for (int i = 0; i < seqs.Count; i++)
        {
            var s = seqs[i];
            outs[i] = new CompletionOutput(beams ? i : s.Index, s.GeneratedTokens.ToArray(), s.EmittedText, s.CumulativeLogProb,
                s.Logprobs is null ? null : [.. s.Logprobs], s.FinishReason, s.StopReason, s.BeamScore);
        }
        if (!beams)
            Array.Sort(outs, static (a, b) => a.Index.CompareTo(b.Index));
        return new RequestOutput(request.Id, request.PromptTokenIds.ToArray(), outs, request.IsFinished,
            request.FinishReason, request.RejectReason, request.NumPreemptions);
    }
}
