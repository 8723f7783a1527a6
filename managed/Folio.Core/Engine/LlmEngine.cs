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
/// steps run on the caller's thread, or on the background loop's own thread (<see cref="RunAsync"/>). Every public
/// member is thread-safe: one lock guards the state and is held to plan a step and to complete it, not while the
/// model executes, so a <see cref="Submit"/> or <see cref="Abort"/> from another thread never waits for a forward
/// pass. An abort frees the request's blocks at once, or, when it lands while the model runs a step (whose plan may
/// use them), as that step completes. Rejections (warning), preemptions (information) and finished requests (debug)
/// go to the optional logger.
/// </summary>
public sealed partial class LlmEngine
{
    // _gate guards the engine's state (taken briefly by every public member); _stepGate serialises whole steps and is
    // always taken before _gate.
    private readonly Lock _gate = new();
    private readonly Lock _stepGate = new();
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
        lock (_stepGate)
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
        // One stepper at a time (the loop, or readers stepping for themselves); the state lock is held only to plan
        // and to complete the step, not while the model runs: a submission, an abort or a metrics read waits for at
        // most the scheduler's or the output processor's share of a step, never a forward pass. The core allows this
        // order (level 2 uses it): an add while a step is open joins the queue, an abort frees the blocks the open
        // plan may use when the step completes.
        lock (_stepGate)
        {
            long preemptionsBefore, t0, t1;
            StepPlan plan;
            lock (_gate)
            {
                preemptionsBefore = _core.Scheduler.NumPreemptions;
                t0 = Stopwatch.GetTimestamp();
                plan = _core.BeginStep();
                t1 = Stopwatch.GetTimestamp();
            }
            long t2 = t1;
            StepOutputs? outputs = null;
            if (!plan.IsEmpty)
            {
                outputs = _executor.Execute(plan);
                t2 = Stopwatch.GetTimestamp();
            }
            lock (_gate)
            {
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
    /// Starts the background step loop on a dedicated thread ("folio engine loop"): it steps while a request is
    /// unfinished, and blocks on a signal (no spinning) for the next request or abort otherwise, until
    /// <paramref name="cancellationToken"/> is cancelled. Its own thread, not a thread-pool one: a step is synchronous
    /// work for as long as requests run, and on a pool thread it would hold one of the few workers (two on a 2-core
    /// machine) that a host's I/O and handlers need. The task completes when the thread has stopped (faulted if a
    /// step threw). Streams read while it runs wait for it instead of stepping. One loop per engine.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_loop is { IsCompleted: false })
                throw new InvalidOperationException("the engine's background loop is already running.");
            // Continuations of the loop's end run on the pool, never on the stopping loop thread.
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() => RunLoop(stopped, cancellationToken))
            {
                IsBackground = true,   // a host that forgets to cancel still exits
                Name = "folio engine loop",
            };
            _loop = stopped.Task;
            thread.Start();
            return _loop;
        }
    }

    /// <summary>Whether the background loop runs (then readers wait for it rather than step).</summary>
    public bool IsLoopRunning => Volatile.Read(ref _loop) is { IsCompleted: false };

    /// <summary>The dedicated loop thread's body.</summary>
    private void RunLoop(TaskCompletionSource stopped, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (HasUnfinished)
                {
                    Step();
                    continue;
                }
                // Work that arrives between the check above and this wait left the semaphore released: no lost wake-up.
                _workArrived.Wait(cancellationToken);
            }
            stopped.SetResult();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            stopped.SetResult();
        }
        catch (Exception e)
        {
            stopped.SetException(e);
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
