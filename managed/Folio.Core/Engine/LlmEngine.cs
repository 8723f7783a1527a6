using System.Diagnostics;
using System.Threading.Channels;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Folio.Core.Engine;

/// <summary>
/// The engine: <see cref="Step"/> = schedule → execute → postprocess (<see cref="EngineCore"/> around an
/// <see cref="IModelExecutor"/>). Requests come in through <see cref="AddRequest"/> (outputs pulled with
/// <see cref="Step"/>, as the C ABI does) or <see cref="Submit"/> (a per-request <see cref="RequestStream"/>); the
/// steps run on the caller's thread, or on the background loop (<see cref="RunAsync"/>). Every public member is
/// thread-safe: one lock serialises them, so an <see cref="Abort"/> from another thread takes effect between two
/// steps (never inside one) and frees the request's blocks at once. Rejections (warning), preemptions
/// (information) and finished requests (debug) go to the optional logger.
/// </summary>
public sealed partial class LlmEngine
{
    private readonly Lock _gate = new();
    private readonly EngineCore _core;
    private readonly IModelExecutor _executor;
    private readonly ILogger _logger;
    // Wakes the background loop when work arrives (at most one pending release: the loop re-checks for work).
    private readonly SemaphoreSlim _workArrived = new(0, 1);
    private Task? _loop;
    private StepTimings _timings;

    public LlmEngine(EngineOptions options, IModelExecutor executor, ITextDecoder? decoder = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(executor);
        options.Validate();
        Options = options;
        _executor = executor;
        _logger = logger ?? NullLogger.Instance;
        _core = new EngineCore(options.Scheduler, new KvCacheManager(options.KvCache), decoder, _logger)
        {
            TokenConstraints = options.TokenConstraints,
        };
    }

    public EngineOptions Options { get; }

    /// <summary>For tests and tools that inspect the cache (read it only between steps).</summary>
    public KvCacheManager KvCache => _core.KvCache;

    /// <summary>The scheduler (tests corrupt its state to check <see cref="CheckInvariants"/>).</summary>
    internal Scheduler Scheduler => _core.Scheduler;

    /// <summary>Called at the end of every step, on the stepping thread and under the engine's lock, with the step's
    /// outputs (for hosts that forward each step, as the C ABI's stream callback does; calls back into this engine
    /// from it are not allowed to step).</summary>
    public event Action<IReadOnlyList<OutputDelta>>? StepCompleted;

    /// <summary>A request was added whose last output has not been delivered yet.</summary>
    public bool HasUnfinished
    {
        get { lock (_gate) return _core.HasUnfinished; }
    }

    /// <summary>Time spent in each phase of <see cref="Step"/> since the engine was created.</summary>
    public StepTimings GetStepTimings()
    {
        lock (_gate) return _timings;
    }

    public SchedulerStats GetSchedulerStats()
    {
        lock (_gate) return _core.Scheduler.GetStats();
    }

    public KvCacheStats GetKvStats()
    {
        lock (_gate) return _core.KvCache.GetStats();
    }

    public TokenCounts GetTokenCounts()
    {
        lock (_gate) return _core.Outputs.Counts;
    }

    /// <summary>Checks the KV cache invariants and the scheduler's books between steps (tests, debugging); throws on a violation.</summary>
    public void CheckInvariants()
    {
        lock (_gate)
        {
            KvInvariants.Check(_core.KvCache);
            _core.Scheduler.CheckConsistency();
        }
    }

    /// <summary>
    /// Queues a request whose outputs the caller pulls with <see cref="Step"/>. Bad parameters throw an
    /// <see cref="ArgumentException"/> naming the field; a request that can never fit the KV pool comes back
    /// finished with reason Rejected and its reason (its end is in the next step's outputs).
    /// </summary>
    public Request AddRequest(ReadOnlySpan<int> promptTokenIds, SamplingParams samplingParams, int priority = 0, CacheKey cacheKey = default)
    {
        Precompile(samplingParams);
        Request request;
        lock (_gate)
            request = _core.AddRequest(promptTokenIds, samplingParams, priority, cacheKey);
        WakeLoop();
        return request;
    }

    /// <summary>Queues a request and opens its output stream (see <see cref="RequestStream"/>); otherwise as <see cref="AddRequest"/>.</summary>
    public RequestStream Submit(ReadOnlySpan<int> promptTokenIds, SamplingParams samplingParams, int priority = 0, CacheKey cacheKey = default)
    {
        Precompile(samplingParams);
        RequestStream stream;
        lock (_gate)
        {
            var request = _core.AddRequest(promptTokenIds, samplingParams, priority, cacheKey);
            stream = new RequestStream(this, request);
            _core.Outputs.Attach(stream);
        }
        WakeLoop();
        return stream;
    }

    /// <summary>Aborts a request (any thread): it finishes with reason Abort and its blocks are freed now; its end
    /// is in the next step's outputs. False if unknown, finished or already aborted.</summary>
    public bool Abort(long requestId)
    {
        bool aborted;
        lock (_gate)
            aborted = _core.Abort(requestId);
        if (aborted)
            WakeLoop();
        return aborted;
    }

    /// <summary>
    /// Runs one step and returns its outputs: ends of requests aborted or rejected since the last step, then each
    /// sequence's new tokens with the text they add, then the ends of requests that finished. The list is reused:
    /// valid until the next call.
    /// </summary>
    public IReadOnlyList<OutputDelta> Step()
    {
        lock (_gate)
        {
            long preemptionsBefore = _core.Scheduler.NumPreemptions;
            long t0 = Stopwatch.GetTimestamp();
            var plan = _core.BeginStep();
            long t1 = Stopwatch.GetTimestamp(), t2 = t1;
            StepOutputs? outputs = null;
            if (!plan.IsEmpty)
            {
                outputs = _executor.Execute(plan);
                t2 = Stopwatch.GetTimestamp();
            }
            var deltas = _core.CompleteStep(outputs);
            long t3 = Stopwatch.GetTimestamp();
            _timings = new StepTimings(_timings.Steps + 1, _timings.ScheduleTicks + (t1 - t0),
                _timings.ExecuteTicks + (t2 - t1), _timings.PostprocessTicks + (t3 - t2));
            long preemptions = _core.Scheduler.NumPreemptions;
            if (preemptions > preemptionsBefore)
                EngineLog.Preempted(_logger, _core.Scheduler.GetStats().Steps, preemptions - preemptionsBefore, preemptions);
            StepCompleted?.Invoke(deltas);
            return deltas;
        }
    }

    /// <summary>
    /// Runs requests to completion and returns their whole outputs in the order of <paramref name="prompts"/>. The
    /// only run-to-completion loop: it reads each request's stream (which steps the engine, or waits for the
    /// background loop).
    /// </summary>
    public IReadOnlyList<RequestOutput> Generate(IReadOnlyList<int[]> prompts, SamplingParams samplingParams,
        int priority = 0, CacheKey cacheKey = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var streams = new RequestStream[prompts.Count];
        for (int i = 0; i < prompts.Count; i++)
            streams[i] = Submit(prompts[i], samplingParams, priority, cacheKey);
        var outputs = new RequestOutput[streams.Length];
        for (int i = 0; i < streams.Length; i++)
        {
            foreach (var _ in streams[i].ReadAll())
            {
                // The deltas are not needed: the whole output comes with the stream's end.
            }
            outputs[i] = streams[i].Completion.Result;
        }
        return outputs;
    }

    /// <summary>A snapshot of a request's outputs so far (text handed out so far; whole once finished).</summary>
    public RequestOutput GetOutput(Request request)
    {
        lock (_gate) return _core.GetOutput(request);
    }

    /// <summary>
    /// The background step loop: steps while a request is unfinished, and waits (without spinning) for the next
    /// request or abort otherwise, until <paramref name="cancellationToken"/> is cancelled. Streams read while it
    /// runs wait for it instead of stepping. One loop per engine.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_loop is { IsCompleted: false })
                throw new InvalidOperationException("the engine's background loop is already running.");
            _loop = Task.Run(() => LoopAsync(cancellationToken), CancellationToken.None);
            return _loop;
        }
    }

    /// <summary>Whether the background loop runs (then readers wait for it rather than step).</summary>
    public bool IsLoopRunning => Volatile.Read(ref _loop) is { IsCompleted: false };

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (HasUnfinished)
            {
                Step();
                continue;
            }
            try
            {
                await _workArrived.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Compiles a structured output outside the engine's lock (a large schema may take long; steps go on meanwhile):
    /// the factory caches it by text, so admission under the lock finds it compiled. Bad input throws here.
    /// </summary>
    private void Precompile(SamplingParams samplingParams)
    {
        if (samplingParams?.StructuredOutputs is { } spec && Options.TokenConstraints is { } factory)
            factory.Create(spec);
    }

    private void WakeLoop()
    {
        lock (_workArrived)
        {
            if (_workArrived.CurrentCount == 0)
                _workArrived.Release();
        }
    }

    /// <summary>A stream reader's turn: wait for the background loop's next output, or step the engine here.</summary>
    internal async ValueTask AdvanceAsync(ChannelReader<RequestOutput> reader, CancellationToken cancellationToken)
    {
        var loop = Volatile.Read(ref _loop);
        if (loop is { IsCompleted: false })
        {
            var ready = reader.WaitToReadAsync(cancellationToken).AsTask();
            // The loop may stop (cancelled) while this reader waits: then the reader steps on its own.
            await Task.WhenAny(ready, loop).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return;
        }
        Step();
    }
}
