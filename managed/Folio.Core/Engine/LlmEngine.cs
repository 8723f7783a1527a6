using System.Diagnostics;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Folio.Core.Engine;

/// <summary>
/// The engine loop: <see cref="Step"/> = schedule → execute → postprocess. Every public member is thread-safe:
/// one lock serialises them, so an <see cref="Abort"/> from another thread takes effect between two steps
/// (never inside one) and frees the request's blocks at once. Rejections (warning), preemptions (information)
/// and finished requests (debug) go to the optional logger.
/// </summary>
public sealed class LlmEngine
{
    private readonly Lock _gate = new();
    private readonly Scheduler _scheduler;
    private readonly KvCacheManager _kv;
    private readonly IModelExecutor _executor;
    private readonly ITextDecoder? _decoder;
    private readonly ILogger _logger;
    private readonly Dictionary<long, Request> _unfinished = [];
    private readonly List<SequenceUpdate> _stepUpdates = [];
    private readonly List<SequenceUpdate> _abortUpdates = [];
    private long _nextRequestId;
    private long _arrival;
    private StepTimings _timings;

    public LlmEngine(EngineOptions options, IModelExecutor executor, ITextDecoder? decoder = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(executor);
        options.Validate();
        Options = options;
        _kv = new KvCacheManager(options.KvCache);
        _scheduler = new Scheduler(options.Scheduler, _kv, decoder);
        _executor = executor;
        _decoder = decoder;
        _logger = logger ?? NullLogger.Instance;
    }

    public EngineOptions Options { get; }

    /// <summary>For tests and tools that inspect the cache (read it only between steps).</summary>
    public KvCacheManager KvCache => _kv;

    /// <summary>The scheduler (tests corrupt its state to check <see cref="CheckInvariants"/>).</summary>
    internal Scheduler Scheduler => _scheduler;

    public bool HasUnfinished
    {
        get { lock (_gate) return _scheduler.HasUnfinished; }
    }

    /// <summary>Time spent in each phase of <see cref="Step"/> since the engine was created.</summary>
    public StepTimings GetStepTimings()
    {
        lock (_gate) return _timings;
    }

    public SchedulerStats GetSchedulerStats()
    {
        lock (_gate) return _scheduler.GetStats();
    }

    public KvCacheStats GetKvStats()
    {
        lock (_gate) return _kv.GetStats();
    }

    /// <summary>Checks the KV cache invariants and the scheduler's books between steps (tests, debugging); throws on a violation.</summary>
    public void CheckInvariants()
    {
        lock (_gate)
        {
            KvInvariants.Check(_kv);
            _scheduler.CheckConsistency();
        }
    }

    /// <summary>
    /// Queues a request. Bad parameters throw an <see cref="ArgumentException"/> naming the field; a request
    /// that can never fit the KV pool comes back finished with reason Rejected and its reason.
    /// </summary>
    public Request AddRequest(ReadOnlySpan<int> promptTokenIds, SamplingParams samplingParams, int priority = 0, CacheKey cacheKey = default)
    {
        ArgumentNullException.ThrowIfNull(samplingParams);
        samplingParams.Validate();
        if (samplingParams.Stop.Count > 0 && _decoder is null)
            throw new ArgumentException("stop strings need a text decoder; this engine has none.", nameof(samplingParams));
        for (int i = 0; i < promptTokenIds.Length; i++)
        {
            if (promptTokenIds[i] < 0)
                throw new ArgumentException($"prompt token {i} is {promptTokenIds[i]}; token ids are >= 0.", nameof(promptTokenIds));
        }
        lock (_gate)
        {
            var request = new Request(_nextRequestId++, promptTokenIds, samplingParams, _arrival++, priority, cacheKey);
            if (_scheduler.Add(request))
                _unfinished.Add(request.Id, request);
            else
            {
                _abortUpdates.Add(new SequenceUpdate(request, null, 0));
                EngineLog.RequestRejected(_logger, request.Id, request.RejectReason);
            }
            return request;
        }
    }

    /// <summary>Aborts a request (any thread): it finishes with reason Abort and its blocks are freed now. False if unknown or finished.</summary>
    public bool Abort(long requestId)
    {
        lock (_gate)
        {
            if (!_unfinished.Remove(requestId, out var request))
                return false;
            _scheduler.Abort(request);
            _abortUpdates.Add(new SequenceUpdate(request, null, 0));
            return true;
        }
    }

    /// <summary>
    /// Runs one step and returns its incremental outputs (including requests aborted or rejected since the
    /// last step). The list is reused: valid until the next call.
    /// </summary>
    public IReadOnlyList<SequenceUpdate> Step()
    {
        lock (_gate)
        {
            _stepUpdates.Clear();
            bool pendingAborts = _abortUpdates.Count > 0;
            if (pendingAborts)
            {
                _stepUpdates.AddRange(_abortUpdates);
                _abortUpdates.Clear();
            }
            long preemptionsBefore = _scheduler.GetStats().Preemptions;
            long t0 = Stopwatch.GetTimestamp();
            var plan = _scheduler.Schedule();
            long t1 = Stopwatch.GetTimestamp(), t2 = t1;
            if (!plan.IsEmpty)
            {
                var outputs = _executor.Execute(plan);
                t2 = Stopwatch.GetTimestamp();
                _scheduler.Postprocess(outputs);
            }
            long t3 = Stopwatch.GetTimestamp();
            _timings = new StepTimings(_timings.Steps + 1, _timings.ScheduleTicks + (t1 - t0),
                _timings.ExecuteTicks + (t2 - t1), _timings.PostprocessTicks + (t3 - t2));
            var updates = _scheduler.Updates;
            for (int i = 0; i < updates.Count; i++)
            {
                var u = updates[i];
                if (pendingAborts)
                    _stepUpdates.Add(u);
                if (u.RequestFinished && _unfinished.Remove(u.Request.Id))
                    LogFinished(u.Request);
            }
            var stats = _scheduler.GetStats();
            if (stats.Preemptions > preemptionsBefore)
                EngineLog.Preempted(_logger, stats.Steps, stats.Preemptions - preemptionsBefore, stats.Preemptions);
            // Usually nothing was aborted: hand out the scheduler's list as it is (no copy).
            return pendingAborts ? _stepUpdates : updates;
        }
    }

    private void LogFinished(Request request)
    {
        if (request.FinishReason == FinishReason.Rejected)
            EngineLog.RequestRejected(_logger, request.Id, request.RejectReason);
        else if (_logger.IsEnabled(LogLevel.Debug))
        {
            // Aborted and rejected requests carry their reason; otherwise each sequence carries its own.
            var seqs = request.Sequences;
            var reason = request.FinishReason != FinishReason.None || seqs.Count == 0 ? request.FinishReason : seqs[0].FinishReason;
            EngineLog.RequestFinished(_logger, request.Id, reason);
        }
    }

    /// <summary>Runs requests to completion (blocking) and returns their outputs in the order of <paramref name="prompts"/>.</summary>
    public IReadOnlyList<RequestOutput> Generate(IReadOnlyList<int[]> prompts, SamplingParams samplingParams)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var requests = new Request[prompts.Count];
        for (int i = 0; i < prompts.Count; i++)
            requests[i] = AddRequest(prompts[i], samplingParams);
        while (true)
        {
            bool pending = false;
            foreach (var r in requests)
                pending |= !r.IsFinished;
            if (!pending)
                break;
            Step();
        }
        var outputs = new RequestOutput[requests.Length];
        for (int i = 0; i < requests.Length; i++)
            outputs[i] = GetOutput(requests[i]);
        return outputs;
    }

    /// <summary>A snapshot of a request's outputs so far.</summary>
    public RequestOutput GetOutput(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            var seqs = request.Sequences;
            var outs = new CompletionOutput[seqs.Count];
            for (int i = 0; i < seqs.Count; i++)
            {
                var s = seqs[i];
                outs[i] = new CompletionOutput(
                    request.Params.UseBeamSearch ? i : s.Index, s.GeneratedTokens.ToArray(), s.OutputText, s.CumulativeLogProb,
                    s.Logprobs is null ? null : [.. s.Logprobs], s.FinishReason, s.StopReason, s.BeamScore);
            }
            if (!request.Params.UseBeamSearch)
                Array.Sort(outs, static (a, b) => a.Index.CompareTo(b.Index));
            return new RequestOutput(request.Id, request.PromptTokenIds.ToArray(), outs, request.IsFinished,
                request.FinishReason, request.RejectReason, request.NumPreemptions);
        }
    }
}
