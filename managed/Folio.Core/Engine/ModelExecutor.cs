using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>
/// The real model behind <see cref="IModelExecutor"/>. A step: the plan's swaps (<see cref="IComputeBackend.MoveBlocks"/>
/// between the device cache and the host swap cache) and copy-on-write copies (<see cref="IComputeBackend.CopyBlocks"/>),
/// each taking the plan's (src, dst) pair array as it is; then <see cref="IComputeBackend.BeginStep"/> binds the
/// plan's arrays once, one forward pass runs every scheduled token (K/V written through the slot mapping,
/// attention read through the block tables), and the backend's <see cref="ISampler"/> samples the logits rows
/// where they are: only token ids and requested log-probabilities come back.
/// </summary>
public sealed class ModelExecutor : IModelExecutor, IDisposable
{
    private readonly DecoderModel _model;
    private readonly IComputeBackend _backend;
    private readonly DeviceKvCache _cache;
    private readonly DeviceKvCache? _swapCache;
    private readonly ISampler _sampler;
    private readonly StepOutputs _outputs = new();
    private readonly IDecodeGraphs? _graphs;
    private readonly DecodePadding _padding = new();
    private readonly Func<StepContext, DeviceTensor> _forward;
    private readonly ModelInput _input = new()
    {
        TokenIds = [], Positions = [], SlotMapping = [], LogitRows = [],
        Attention = new AttentionBatch { QueryStarts = [0], ContextLengths = [], BlockTables = [], BlockTableStride = 0 },
    };

    /// <param name="stopTokenIds">EOS ids of the model, suppressed while min_tokens is not reached.</param>
    /// <param name="validTokenCount">Ids the tokenizer can produce (<c>TextTokenizer.VocabularySize</c>): rows of the model
    /// past it (Qwen's padding rows) are never sampled.</param>
    public ModelExecutor(DecoderModel model, IComputeBackend backend, int numGpuBlocks, int numCpuBlocks, int blockSizeTokens,
        IReadOnlyList<int> stopTokenIds, long defaultSeed = 0, int validTokenCount = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(backend);
        _model = model;
        _backend = backend;
        _graphs = backend as IDecodeGraphs;
        _forward = model.Forward;
        _sampler = backend.CreateSampler(new SamplerSettings(stopTokenIds, defaultSeed, validTokenCount));
        _cache = model.CreateKvCache(numGpuBlocks, blockSizeTokens);
        _swapCache = numCpuBlocks > 0 ? model.CreateHostKvCache(numCpuBlocks, blockSizeTokens) : null;
    }

    public long NumSteps { get; private set; }
    public long NumTokensComputed { get; private set; }
    /// <summary>Sum over steps of the sequences computed (÷ NumSteps = mean batch size).</summary>
    public long NumSequencesComputed { get; private set; }
    /// <summary>Prompt tokens computed by the last step (0 = a pure decode step).</summary>
    public int LastStepPrefillTokens { get; private set; }
    /// <summary>Blocks copied within the device cache (copy-on-write), over all steps.</summary>
    public long NumBlocksCopied { get; private set; }
    /// <summary>Blocks moved device → host (swap out) and host → device (swap in), over all steps.</summary>
    public long NumBlocksSwappedOut { get; private set; }
    public long NumBlocksSwappedIn { get; private set; }

    public StepOutputs Execute(StepPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        NumSteps++;
        // Swap-outs, then swap-ins, then copies (the plan's order: a block freed by a swap-out may be reused).
        if (plan.NumSwapOut > 0)
        {
            _backend.MoveBlocks(_cache, SwapCache, plan.SwapOutPairs);
            NumBlocksSwappedOut += plan.NumSwapOut;
        }
        if (plan.NumSwapIn > 0)
        {
            _backend.MoveBlocks(SwapCache, _cache, plan.SwapInPairs);
            NumBlocksSwappedIn += plan.NumSwapIn;
        }
        if (plan.NumBlockCopies > 0)
        {
            _backend.CopyBlocks(_cache, plan.BlockCopyPairs);
            NumBlocksCopied += plan.NumBlockCopies;
        }

        LastStepPrefillTokens = plan.NumPrefillTokens;
        if (plan.NumSequences == 0)
        {
            _outputs.Clear();
            return _outputs;
        }
        plan.Describe(_input);
        var masks = StepMasks.Start(plan, MaskTime);   // structured-output masks, computed while the model runs
        StepContext step;
        DeviceTensor logits;
        if (GraphShape(plan) is (> 0 and var batch, var width))
        {
            // A decode step replayed from a captured graph: padded to the graph's shape; its real rows come first.
            step = _backend.BeginStep(_padding.Pad(_input, batch, width), _cache);
            logits = _graphs!.RunGraphed(step, _forward);
            logits.Resize(plan.NumLogitsRows);
            NumGraphedSteps++;
        }
        else
        {
            step = _backend.BeginStep(_input, _cache);
            logits = _model.Forward(step);
        }
        if (!masks.IsCompleted)
        {
            // Masks that outlast the forward pass hold the step up: that wait is what structured output costs here.
            long waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
            masks.GetAwaiter().GetResult();
            MaskWaitSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(waitStart).TotalSeconds;
        }
        else masks.GetAwaiter().GetResult();
        NumTokensComputed += plan.NumTokens;
        NumSequencesComputed += plan.NumSequences;
        _sampler.Sample(step, logits, plan, _outputs);
        return _outputs;
    }

    /// <summary>The padded (batch, block-table width) of a decode step the backend replays from a graph, else (0, 0).</summary>
    private (int Batch, int Width) GraphShape(StepPlan plan)
    {
        if (_graphs is not { GraphsEnabled: true } || plan.NumPrefillTokens != 0 || plan.NumTokens != plan.NumSequences ||
            plan.NumLogitsRows != plan.NumSequences)
            return (0, 0);
        int batch = _graphs.PaddedBatch(plan.NumSequences);
        int width = _graphs.BlockTableWidth(_input.Attention.BlockTableStride);
        return batch > 0 && width > 0 ? (batch, width) : (0, 0);
    }

    /// <summary>Seconds the steps waited for structured-output masks after their forward pass (0 when the masks
    /// were always ready first).</summary>
    public double MaskWaitSeconds { get; private set; }

    /// <summary>Structured-output masks computed and their summed time (rows in parallel, overlapping the forward pass).</summary>
    public MaskTimer MaskTime { get; } = new();

    /// <summary>Decode steps run from a captured graph (replayed or captured).</summary>
    public long NumGraphedSteps { get; private set; }

    private DeviceKvCache SwapCache =>
        _swapCache ?? throw new InvalidOperationException("the plan swaps blocks but the executor has no swap cache (NumCpuBlocks = 0)");

    public void Dispose()
    {
        _sampler.Dispose();
        _cache.Dispose();
        _swapCache?.Dispose();
    }
}
