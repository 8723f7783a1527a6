using System.Diagnostics;
using System.Threading.Channels;
using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Server;

/// <summary>
/// One HTTP request's engine requests (one per prompt), submitted to the engine whose background loop steps them.
/// Disposing aborts every one that has not finished, so a client that disconnects (RequestAborted), an error
/// while writing, or a rejection of a sibling frees their KV blocks at once.
/// </summary>
internal sealed class Submission : IDisposable
{
    private readonly RequestStream[] _streams;
    private Channel<(int, RequestOutput)>? _merged;

    private Submission(RequestStream[] streams) => _streams = streams;

    public IReadOnlyList<RequestStream> Streams => _streams;

    /// <summary>Whether <see cref="ReadAllAsync"/> has another output ready now (the endpoint flushes what it wrote
    /// only when not: several steps' outputs that piled up leave in one write).</summary>
    public bool HasPendingOutput => _merged is { } m ? m.Reader.TryPeek(out _) : _streams.Length == 1 && _streams[0].Reader.TryPeek(out _);

    /// <summary>429 when the engine's queue is full; 400 when the engine rejects a prompt (it could never fit the KV
    /// cache); an ArgumentException from the engine's validation is left to the caller (a 400).</summary>
    public static Submission Start(ServerState state, GenerationRequest request)
    {
        var engine = state.Model.Engine;
        var options = state.Options;
        int waiting = engine.GetSchedulerStats().NumWaiting;
        if (waiting + request.Prompts.Count > options.MaxWaitingRequests)
        {
            throw new ApiException(429,
                $"the server is busy: {waiting} requests are waiting (limit {options.MaxWaitingRequests}); retry later");
        }
        var streams = new List<RequestStream>(request.Prompts.Count);
        try
        {
            foreach (var prompt in request.Prompts)
            {
                long arrival = Stopwatch.GetTimestamp();
                var stream = engine.Submit(prompt, request.Sampling, request.Priority, request.CacheKey);
                streams.Add(stream);
                state.Metrics.Timings.Track(stream.Request, arrival);
                // The scheduler decides at once whether a request could ever fit the KV cache.
                if (stream.Request.FinishReason == FinishReason.Rejected)
                    throw new ApiException(400, $"the request cannot be served: {stream.Request.RejectReason}", "prompt");
            }
            return new Submission([.. streams]);
        }
        catch
        {
            foreach (var s in streams) s.Abort();
            throw;
        }
    }

    /// <summary>Every output of every prompt as it comes, tagged with the prompt's index; ends when all have ended.</summary>
    public async IAsyncEnumerable<(int Prompt, RequestOutput Output)> ReadAllAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_streams.Length == 1)
        {
            await foreach (var o in _streams[0].WithCancellation(cancellationToken).ConfigureAwait(false))
                yield return (0, o);
            yield break;
        }
        var merged = _merged = Channel.CreateUnbounded<(int, RequestOutput)>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = new Task[_streams.Length];
        for (int i = 0; i < _streams.Length; i++)
        {
            int index = i;
            pumps[i] = Task.Run(async () =>
            {
                await foreach (var o in _streams[index].WithCancellation(cancellationToken).ConfigureAwait(false))
                    await merged.Writer.WriteAsync((index, o), cancellationToken).ConfigureAwait(false);
            }, cancellationToken);
        }
        _ = Task.WhenAll(pumps).ContinueWith(t => merged.Writer.TryComplete(t.Exception), TaskScheduler.Default);
        await foreach (var item in merged.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            yield return item;
    }

    /// <summary>The whole output of every prompt, in prompt order (for non-streaming responses).</summary>
    public async Task<RequestOutput[]> CompleteAsync(CancellationToken cancellationToken)
    {
        var all = await Task.WhenAll(_streams.Select(s => s.Completion)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return all;
    }

    public void Dispose()
    {
        foreach (var s in _streams)
            if (!s.Completion.IsCompleted) s.Abort();
    }
}
