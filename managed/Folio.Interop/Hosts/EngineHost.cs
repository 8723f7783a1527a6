using System.Diagnostics;
using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;
using Folio.Interop.Runtime;

namespace Folio.Interop.Hosts;

/// <summary>
/// The object behind a folio_engine handle: the managed <see cref="LlmEngine"/> plus what only the C ABI needs —
/// turning its step updates into folio_request_output records (with incremental text), the stream callback,
/// and counters for folio_stats. Adds and cancels go straight to the engine (thread-safe); steps are serialized
/// here so the streamed text cursors advance in order.
/// </summary>
public sealed unsafe class EngineHost
{
    private readonly Lock _stepLock = new();
    private readonly Dictionary<long, int> _emittedChars = [];
    private delegate* unmanaged<FolioRequestOutput*, void*, void> _stream;
    private void* _streamUserData;
    private long _promptTokens;
    private long _generatedTokens;
    private long _stepTicks;
    // Requests added whose last output (request_finished) was not produced yet: an aborted or rejected request
    // still owes one, which LlmEngine.HasUnfinished does not count.
    private long _open;

    private readonly IDisposable?[] _resources;
    private bool _disposed;

    /// <param name="resources">Released by <see cref="Dispose"/> (the executor's KV cache, the model weights).</param>
    public EngineHost(LlmEngine engine, IEngineModel model, LogSink log, params IDisposable?[] resources)
    {
        Engine = engine;
        Model = model;
        Log = log;
        _resources = resources;
    }

    /// <summary>folio_engine_destroy: waits for a step in flight, then releases the model. Later steps that had
    /// already resolved the handle see <see cref="IsDisposed"/>.</summary>
    public void Dispose()
    {
        lock (_stepLock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (IDisposable? resource in _resources) resource?.Dispose();
        }
    }

    public bool IsDisposed
    {
        get { lock (_stepLock) return _disposed; }
    }

    public LlmEngine Engine { get; }
    public IEngineModel Model { get; }
    public LogSink Log { get; }

    public void SetStreamCallback(delegate* unmanaged<FolioRequestOutput*, void*, void> callback, void* userData)
    {
        lock (_stepLock)
        {
            _stream = callback;
            _streamUserData = userData;
        }
    }

    public long Add(int[] promptIds, SamplingParams samplingParams, RequestOptions options = default) =>
        AddCore(promptIds, samplingParams, options).Id;

    private Request AddCore(int[] promptIds, SamplingParams samplingParams, RequestOptions options)
    {
        // Counted first: a concurrent step may deliver this request's end before AddRequest returns.
        Interlocked.Increment(ref _open);
        Request request;
        try
        {
            request = Engine.AddRequest(promptIds, Model.WithModelStops(samplingParams), options.Priority, options.CacheKey);
        }
        catch
        {
            Interlocked.Decrement(ref _open);
            throw;
        }
        Interlocked.Add(ref _promptTokens, promptIds.Length);
        return request;
    }

    public bool Cancel(long requestId) => Engine.Abort(requestId);

    /// <summary>A request is queued, running, or owes its last output.</summary>
    public bool HasUnfinished => Interlocked.Read(ref _open) > 0;

    /// <summary>One step's outputs, or null when the engine was destroyed meanwhile.</summary>
    public OutputList? Step()
    {
        lock (_stepLock) return _disposed ? null : StepLocked();
    }

    /// <summary>Runs the prompts (and whatever else is queued) to completion; full outputs in prompt order.</summary>
    public OutputList? Generate(IReadOnlyList<int[]> prompts, SamplingParams samplingParams, RequestOptions options = default)
    {
        lock (_stepLock)
        {
            if (_disposed) return null;
            var requests = new Request[prompts.Count];
            for (int i = 0; i < prompts.Count; i++) requests[i] = AddCore(prompts[i], samplingParams, options);
            foreach (Request request in requests)
            {
                while (!request.IsFinished) StepLocked();
            }
            var builder = new OutputListBuilder();
            foreach (Request request in requests)
            {
                RequestOutput output = Engine.GetOutput(request);
                for (int i = 0; i < output.Outputs.Count; i++)
                {
                    CompletionOutput c = output.Outputs[i];
                    FinishReason reason = output.FinishReason != FinishReason.None ? output.FinishReason : c.FinishReason;
                    int k = samplingParams.Logprobs ?? 0;
                    var (topIds, topLps) = TopLogprobs(c.Logprobs, 0, c.TokenIds.Count, k);
                    builder.Add((ulong)request.Id, c.Index, Map(reason), i == output.Outputs.Count - 1,
                        c.TokenIds.ToArray(), c.CumulativeLogProb, k, topIds, topLps, c.Text, (ulong)request.PromptLength,
                        reason == FinishReason.Rejected ? output.RejectReason ?? "" : "");
                }
            }
            return builder.Build();
        }
    }

    public FolioStats GetStats()
    {
        SchedulerStats s = Engine.GetSchedulerStats();
        Folio.Core.KvCache.KvCacheStats kv = Engine.GetKvStats();
        double seconds = (double)Interlocked.Read(ref _stepTicks) / Stopwatch.Frequency;
        long generated = Interlocked.Read(ref _generatedTokens);
        // The KV fields are filled as for a KV manager on its own; the engine adds the scheduler's and its own.
        return KvManagerHost.ToStats(kv, Engine.Options.KvCache.BlockSizeTokens) with
        {
            NumPreemptions = s.Preemptions,
            NumRunning = s.NumRunning,
            NumWaiting = s.NumWaiting,
            NumSwapped = s.NumSwapped,
            NumSteps = s.Steps,
            NumPromptTokens = Interlocked.Read(ref _promptTokens),
            NumGeneratedTokens = generated,
            GeneratedTokensPerS = seconds > 0 ? generated / seconds : 0,
        };
    }

    private OutputList StepLocked()
    {
        long start = Stopwatch.GetTimestamp();
        IReadOnlyList<SequenceUpdate> updates = Engine.Step();
        var builder = new OutputListBuilder();
        long generated = 0;
        foreach (SequenceUpdate u in updates)
        {
            Request request = u.Request;
            if (u.Sequence is { } seq)
            {
                ReadOnlySpan<int> all = seq.GeneratedTokens;
                int first = all.Length - u.NumNewTokens;
                int k = request.Params.Logprobs ?? 0;
                var (topIds, topLps) = TopLogprobs(seq.Logprobs, first, u.NumNewTokens, k);
                string delta = TextDelta(seq);
                FinishReason reason = seq.IsFinished ? seq.FinishReason : FinishReason.None;
                builder.Add((ulong)request.Id, seq.Index, Map(reason), false, all[first..], seq.CumulativeLogProb, k,
                    topIds, topLps, delta, (ulong)request.PromptLength);
                generated += u.NumNewTokens;
            }
            else
            {
                if (request.Params.UseBeamSearch && request.FinishReason == FinishReason.None)
                    AddBeams(builder, request);
                FinishReason reason = request.FinishReason != FinishReason.None ? request.FinishReason
                    : request.Sequences.Count > 0 ? request.Sequences[0].FinishReason : FinishReason.None;
                builder.Add((ulong)request.Id, -1, Map(reason), true, [], 0, 0, [], [], "", (ulong)request.PromptLength,
                    reason == FinishReason.Rejected ? request.RejectReason ?? "" : "");
                foreach (Sequence s in request.Sequences) _emittedChars.Remove(s.Id);
                Interlocked.Decrement(ref _open);
            }
        }
        OutputList list = builder.Build();
        Interlocked.Add(ref _generatedTokens, generated);
        Interlocked.Add(ref _stepTicks, Stopwatch.GetTimestamp() - start);
        if (_stream != null)
        {
            using var scope = CallbackScope.Enter(this);
            for (int i = 0; i < list.Count; i++)
            {
                FolioRequestOutput copy = list[i];
                _stream(&copy, _streamUserData);
            }
        }
        if (Log.IsEnabled(FolioLogLevel.Trace))
        {
            Log.Write(FolioLogLevel.Trace, $"step: {list.Count} outputs, {generated} new tokens", this);
        }
        return list;
    }

    /// <summary>Beam searches report no per-step updates (beams are reordered every step): at the end, each
    /// finished beam, best first, becomes one output with all its tokens.</summary>
    private void AddBeams(OutputListBuilder builder, Request request)
    {
        RequestOutput output = Engine.GetOutput(request);
        int k = request.Params.Logprobs ?? 0;
        foreach (CompletionOutput c in output.Outputs)
        {
            var (topIds, topLps) = TopLogprobs(c.Logprobs, 0, c.TokenIds.Count, k);
            builder.Add((ulong)request.Id, c.Index, Map(c.FinishReason), false, c.TokenIds.ToArray(), c.CumulativeLogProb,
                k, topIds, topLps, c.Text, (ulong)request.PromptLength);
        }
    }

    /// <summary>
    /// The text a sequence's update adds for streaming. While a stop string could still match, its last
    /// (longest stop − 1) characters are held back: a match may begin in them, and the scheduler then trims the
    /// output text, so streamed text must never contain what the final text will not. The streamed pieces
    /// therefore always concatenate to the final text.
    /// </summary>
    private string TextDelta(Sequence seq)
    {
        string text = seq.OutputText;
        _emittedChars.TryGetValue(seq.Id, out int emitted);
        int holdBack = 0;
        if (!seq.IsFinished)
        {
            foreach (string stop in seq.Request.Params.Stop) holdBack = Math.Max(holdBack, stop.Length - 1);
        }
        int visible = text.Length - holdBack;
        if (visible > 0 && visible < text.Length && char.IsHighSurrogate(text[visible - 1])) visible--;   // whole characters only
        if (visible <= emitted) return "";
        _emittedChars[seq.Id] = visible;
        return text[emitted..visible];
    }

    private static (int[] Ids, float[] Logprobs) TopLogprobs(IReadOnlyList<TokenLogprob[]>? perToken, int first, int count, int k)
    {
        if (k == 0 || perToken is null) return ([], []);
        var ids = new int[count * k];
        var lps = new float[count * k];
        for (int t = 0; t < count; t++)
        {
            TokenLogprob[] top = first + t < perToken.Count ? perToken[first + t] : [];
            for (int j = 0; j < k; j++)
            {
                // Fewer candidates than k (a tiny vocabulary): pad with id -1 and -inf.
                ids[t * k + j] = j < top.Length ? top[j].TokenId : -1;
                lps[t * k + j] = j < top.Length ? top[j].LogProb : float.NegativeInfinity;
            }
        }
        return (ids, lps);
    }

    public static FolioFinishReason Map(FinishReason reason) => reason switch
    {
        FinishReason.None => FolioFinishReason.None,
        FinishReason.Stop => FolioFinishReason.Stop,
        FinishReason.Length => FolioFinishReason.Length,
        FinishReason.Abort => FolioFinishReason.Abort,
        FinishReason.Rejected => FolioFinishReason.Rejected,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "unknown finish reason"),
    };
}
