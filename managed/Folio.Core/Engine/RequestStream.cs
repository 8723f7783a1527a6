using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>
/// The outputs of one request as they come: one <see cref="RequestOutput"/> per step that advanced it, holding for
/// each sequence that moved its new token ids, the text they add (stop-string hold-back applied), its new logprobs
/// and, once finished, its finish and stop reasons; the last has <see cref="RequestOutput.Finished"/> set.
/// <see cref="Completion"/> gives the whole output at the end. Read it with <c>await foreach</c> (or
/// <see cref="ReadAll"/>, blocking): with the engine's background loop running (<see cref="LlmEngine.RunAsync"/>)
/// the reader waits for it; otherwise the reader steps the engine itself. Cancelling the enumeration's token, or
/// leaving the enumeration early, aborts the request: its blocks are freed at once.
/// </summary>
public sealed class RequestStream : IAsyncEnumerable<RequestOutput>
{
    private readonly LlmEngine _engine;
    private readonly Channel<RequestOutput> _channel =
        Channel.CreateUnbounded<RequestOutput>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<RequestOutput> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int[] _promptTokenIds;
    private List<CompletionOutput>? _pending;

    internal RequestStream(LlmEngine engine, Request request)
    {
        _engine = engine;
        Request = request;
        _promptTokenIds = request.PromptTokenIds.ToArray();
    }

    public Request Request { get; }
    public long RequestId => Request.Id;

    /// <summary>The incremental outputs (for hosts that read the channel themselves).</summary>
    public ChannelReader<RequestOutput> Reader => _channel.Reader;

    /// <summary>The request's whole output (every token, the whole text), once its end was delivered.</summary>
    public Task<RequestOutput> Completion => _completion.Task;

    /// <summary>Aborts the request (see <see cref="LlmEngine.Abort"/>).</summary>
    public bool Abort() => _engine.Abort(Request.Id);

    public async IAsyncEnumerator<RequestOutput> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        // Cancelling frees the blocks now, from the cancelling thread, even while this reader waits.
        using var registration = cancellationToken.Register(static s => ((RequestStream)s!).Abort(), this);
        bool ended = false;
        try
        {
            var reader = _channel.Reader;
            while (!ended)
            {
                if (reader.TryRead(out var output))
                {
                    ended = output.Finished;
                    yield return output;
                    continue;
                }
                cancellationToken.ThrowIfCancellationRequested();
                await _engine.AdvanceAsync(reader, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (!ended)
                Abort();   // the reader left early: nobody wants the rest
        }
    }

    /// <summary>Reads the outputs synchronously (the same loop as <c>await foreach</c>, blocking).</summary>
    public IEnumerable<RequestOutput> ReadAll(CancellationToken cancellationToken = default) =>
        this.ToBlockingEnumerable(cancellationToken);

    // Written by the output processor, under the engine's lock.
    internal bool Touched { get; set; }
    internal bool Ended { get; private set; }

    internal void AddPending(CompletionOutput output) => (_pending ??= []).Add(output);

    internal void MarkEnded() => Ended = true;

    /// <summary>Writes the step's output; <paramref name="final"/> (the whole output) is set on the last.</summary>
    internal void Flush(RequestOutput? final)
    {
        IReadOnlyList<CompletionOutput> outputs = _pending is null ? [] : _pending;
        _pending = null;
        Touched = false;
        var r = Request;
        _channel.Writer.TryWrite(new RequestOutput(r.Id, _promptTokenIds, outputs, Ended,
            Ended ? r.FinishReason : Sampling.FinishReason.None, Ended ? r.RejectReason : null, r.NumPreemptions));
        if (final is not null)
        {
            _channel.Writer.TryComplete();
            _completion.TrySetResult(final);
        }
    }
}
