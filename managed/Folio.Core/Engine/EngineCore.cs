using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Folio.Core.Engine;

/// <summary>
/// The engine without an executor: the <see cref="Scheduler"/> (policy and KV mechanics, token-level stops) and
/// the <see cref="OutputProcessor"/> (text, stop strings, outputs, the request book), stepped in two halves around
/// whoever computes the step — <see cref="LlmEngine"/> with its <see cref="IModelExecutor"/>, or a host that runs
/// its own model (the C ABI's level 2). One step is open at a time: <see cref="BeginStep"/>, the model runs the
/// plan, <see cref="CompleteStep"/>. Not thread-safe: the owner serialises every call.
/// </summary>
public sealed class EngineCore
{
    private readonly ITextDecoder? _decoder;
    private readonly ILogger _logger;
    private readonly List<Request> _abortsDuringStep = [];
    private StepPlan? _openPlan;
    private long _nextRequestId;
    private long _arrival;

    public EngineCore(SchedulerOptions options, KvCacheManager kv, ITextDecoder? decoder = null, ILogger? logger = null)
    {
        Scheduler = new Scheduler(options, kv);
        _decoder = decoder;
        _logger = logger ?? NullLogger.Instance;
        Outputs = new OutputProcessor(Scheduler, decoder, _logger);
    }

    public Scheduler Scheduler { get; }

    /// <summary>Compiles requests' structured outputs and bad words (null: such requests are refused).</summary>
    public ITokenConstraintFactory? TokenConstraints { get; init; }
    public OutputProcessor Outputs { get; }
    public KvCacheManager KvCache => Scheduler.KvCache;

    /// <summary>A request was added whose last output has not been delivered (queued, running, or owing its end).</summary>
    public bool HasUnfinished => Outputs.HasUnfinished;

    /// <summary>Whether a plan was handed out and not completed yet.</summary>
    public bool StepOpen => _openPlan is not null;

    /// <summary>
    /// Queues a request. Bad parameters throw an <see cref="ArgumentException"/> naming the field; a request that
    /// can never fit the KV pool comes back finished with reason Rejected and its reason, and its end is
    /// delivered by the next step.
    /// </summary>
    public Request AddRequest(ReadOnlySpan<int> promptTokenIds, SamplingParams samplingParams, int priority = 0,
        CacheKey cacheKey = default)
    {
        var request = Create(promptTokenIds, samplingParams, priority, cacheKey);
        if (!Scheduler.Add(request))
            EngineLog.RequestRejected(_logger, request.Id, request.RejectReason);
        Outputs.Add(request);
        return request;
    }

    /// <summary>
    /// Queues a request, or (false) rejects it — finished with reason Rejected and a <see cref="Request.RejectReason"/>
    /// — and forgets it: a caller that reports the rejection itself (level 2 returns it from add) gets no end record.
    /// </summary>
    public bool TryAddRequest(ReadOnlySpan<int> promptTokenIds, SamplingParams samplingParams, out Request request,
        int priority = 0, CacheKey cacheKey = default)
    {
        request = Create(promptTokenIds, samplingParams, priority, cacheKey);
        if (!Scheduler.Add(request))
            return false;
        Outputs.Add(request);
        return true;
    }

    private Request Create(ReadOnlySpan<int> promptTokenIds, SamplingParams samplingParams, int priority, CacheKey cacheKey)
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
        // Compiled before the request exists, so that a bad schema leaves no trace (and uses no request id).
        var constraints = RequestConstraints.Build(samplingParams, TokenConstraints);
        return new Request(_nextRequestId++, promptTokenIds, samplingParams, _arrival++, priority, cacheKey) { Constraints = constraints };
    }

    /// <summary>
    /// Aborts a request: it finishes with reason Abort and its blocks are freed now — or, while a step is open
    /// (its plan may use them), as soon as that step completes. Its end goes out with the next step's outputs.
    /// False if unknown, finished, or already aborted.
    /// </summary>
    public bool Abort(long requestId)
    {
        if (!Outputs.TryGetUnfinished(requestId, out var request) || request.IsFinished || _abortsDuringStep.Contains(request))
            return false;
        if (_openPlan is not null)
        {
            _abortsDuringStep.Add(request);
            return true;
        }
        Scheduler.Abort(request);
        Outputs.Aborted(request);
        return true;
    }

    /// <summary>Plans the next step (the plan is reused: valid until the next call).</summary>
    public StepPlan BeginStep()
    {
        if (_openPlan is not null)
            throw new InvalidOperationException("the previous step was not completed.");
        Outputs.ClearDeltas();   // the last step's deltas may name rows of the plan that Schedule rewrites
        _openPlan = Scheduler.Schedule();
        return _openPlan;
    }

    /// <summary>
    /// Completes the open step with the model's samples (null when the plan computed no sequence) and returns its
    /// outputs: ends owed since the last step, then this step's deltas, then the ends of requests aborted during it.
    /// The list is reused: valid until the next step.
    /// </summary>
    public IReadOnlyList<OutputDelta> CompleteStep(StepOutputs? outputs)
    {
        var plan = _openPlan ?? throw new InvalidOperationException("no step is open.");
        Outputs.BeginStep();
        try
        {
            if (outputs is not null)
            {
                // One pass: the output processor takes each sequence's tokens as the scheduler applies them.
                Scheduler.Postprocess(outputs, Outputs);
            }
            else if (plan.NumSequences > 0)
            {
                throw new ArgumentNullException(nameof(outputs), $"the plan computed {plan.NumSequences} sequences; their samples are missing.");
            }
        }
        finally
        {
            _openPlan = null;
        }
        foreach (var request in _abortsDuringStep)
        {
            if (Scheduler.Abort(request))
                Outputs.Aborted(request);
        }
        _abortsDuringStep.Clear();
        return Outputs.EndStep();
    }

    /// <summary>A snapshot of a request's outputs so far (see <see cref="OutputProcessor.Snapshot"/>).</summary>
    public RequestOutput GetOutput(Request request) => Outputs.Snapshot(request);
}
