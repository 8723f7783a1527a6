using System.Diagnostics;
using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;
using Folio.Interop.Runtime;

namespace Folio.Interop.Hosts;

/// <summary>
/// The object behind a folio_engine handle: the managed <see cref="LlmEngine"/> plus what only the C ABI needs —
/// each step's <see cref="OutputDelta"/>s (text deltas, finish reasons and the request book are Core's) laid out
/// as folio_request_output records, the stream callback, and folio_stats. Adds and cancels go straight to the
/// engine (thread-safe); steps are serialized here so that destroy waits for a step in flight.
/// </summary>
public sealed unsafe class EngineHost
{
    private readonly Lock _stepLock = new();
    private delegate* unmanaged<FolioRequestOutput*, void*, void> _stream;
    private void* _streamUserData;
    private OutputList? _lastStep;

    private readonly IDisposable?[] _resources;
    private bool _disposed;

    /// <param name="resources">Released by <see cref="Dispose"/> (the executor's KV cache, the model weights).</param>
    public EngineHost(LlmEngine engine, IEngineModel model, LogSink log, params IDisposable?[] resources)
    {
        Engine = engine;
        Model = model;
        Log = log;
        _resources = resources;
        // Every step (folio_engine_step's, or one inside folio_engine_generate) is translated and streamed here.
        engine.StepCompleted += OnStep;
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
        Engine.AddRequest(promptIds, Model.WithModelStops(samplingParams), options.Priority, options.CacheKey).Id;

    public bool Cancel(long requestId) => Engine.Abort(requestId);

    /// <summary>A request is queued, running, or owes its last output.</summary>
    public bool HasUnfinished => Engine.HasUnfinished;

    /// <summary>One step's outputs, or null when the engine was destroyed meanwhile.</summary>
    public OutputList? Step()
    {
        lock (_stepLock)
        {
            if (_disposed) return null;
            Engine.Step();
            OutputList list = _lastStep!;
            _lastStep = null;
            return list;
        }
    }

    /// <summary>Runs the prompts (and whatever else is queued) to completion with Core's Generate; whole outputs
    /// in prompt order (each step still goes to the stream callback).</summary>
    public OutputList? Generate(IReadOnlyList<int[]> prompts, SamplingParams samplingParams, RequestOptions options = default)
    {
        lock (_stepLock)
        {
            if (_disposed) return null;
            IReadOnlyList<RequestOutput> outputs = Engine.Generate(prompts, Model.WithModelStops(samplingParams),
                options.Priority, options.CacheKey);
            _lastStep = null;
            var builder = new OutputListBuilder();
            foreach (RequestOutput output in outputs)
            {
                for (int i = 0; i < output.Outputs.Count; i++)
                {
                    builder.Add(output, output.Outputs[i], samplingParams.Logprobs ?? 0, i == output.Outputs.Count - 1);
                }
            }
            return builder.Build();
        }
    }

    public FolioStats GetStats()
    {
        SchedulerStats s = Engine.GetSchedulerStats();
        Folio.Core.KvCache.KvCacheStats kv = Engine.GetKvStats();
        TokenCounts tokens = Engine.GetTokenCounts();
        StepTimings t = Engine.GetStepTimings();
        double seconds = (double)(t.ScheduleTicks + t.ExecuteTicks + t.PostprocessTicks) / Stopwatch.Frequency;
        // The KV fields are filled as for a KV manager on its own; the engine adds the scheduler's and its own.
        return KvManagerHost.ToStats(kv, Engine.Options.KvCache.BlockSizeTokens) with
        {
            NumPreemptions = s.Preemptions,
            NumRunning = s.NumRunning,
            NumWaiting = s.NumWaiting,
            NumSwapped = s.NumSwapped,
            NumSteps = s.Steps,
            NumPromptTokens = tokens.PromptTokens,
            NumGeneratedTokens = tokens.GeneratedTokens,
            GeneratedTokensPerS = seconds > 0 ? tokens.GeneratedTokens / seconds : 0,
        };
    }

    /// <summary>Runs on the stepping thread (under the engine's lock and <see cref="_stepLock"/>).</summary>
    private void OnStep(IReadOnlyList<OutputDelta> deltas)
    {
        var builder = new OutputListBuilder();
        for (int i = 0; i < deltas.Count; i++) builder.Add(deltas[i], withLogprobs: true);
        OutputList list = builder.Build();
        _lastStep = list;
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
            Log.Write(FolioLogLevel.Trace, $"step: {list.Count} outputs", this);
        }
    }
}
