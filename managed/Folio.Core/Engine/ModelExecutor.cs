using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>
/// The real model behind <see cref="IModelExecutor"/>: runs a step plan's swaps and copy-on-write copies on
/// the backend, one forward pass over every scheduled token (K/V written through the slot mapping, attention
/// read through the block tables), then samples each sequence that needs it with <see cref="LogitsSampler"/>.
/// The GPU-side cache is the backend's <c>cache</c>; swapped blocks live in <c>swapCache</c>.
/// </summary>
public sealed class ModelExecutor : IModelExecutor, IDisposable
{
    private readonly DecoderModel _model;
    private readonly IComputeBackend _backend;
    private readonly DeviceKvCache _cache;
    private readonly DeviceKvCache? _swapCache;
    private readonly int _blockSize;
    private readonly long _defaultSeed;
    private readonly int _validTokenCount;
    private readonly int[] _suppress;
    private readonly StepOutputs _outputs = new();
    private readonly LogitsSampler _sampler = new();
    private readonly ModelInput _input = new()
    {
        TokenIds = [], Positions = [], SlotMapping = [], LogitRows = [],
        Attention = new AttentionBatch { QueryStarts = [0], ContextLengths = [], BlockTables = [], BlockTableStride = 0 },
    };
    private int[] _src = new int[16];
    private int[] _dst = new int[16];
    private TokenLogprob[] _top = new TokenLogprob[SamplingParams.MaxLogprobs];
    private float[] _logits = [];

    /// <param name="stopTokenIds">EOS ids of the model, suppressed while min_tokens is not reached.</param>
    /// <param name="validTokenCount">Ids the tokenizer can produce (<c>TextTokenizer.VocabularySize</c>): rows of the model
    /// past it (Qwen's padding rows) are never sampled.</param>
    public ModelExecutor(DecoderModel model, IComputeBackend backend, int numGpuBlocks, int numCpuBlocks, int blockSizeTokens,
        IReadOnlyList<int> stopTokenIds, long defaultSeed = 0, int validTokenCount = int.MaxValue)
    {
        _validTokenCount = validTokenCount;
        _model = model;
        _backend = backend;
        _blockSize = blockSizeTokens;
        _cache = model.CreateKvCache(numGpuBlocks, blockSizeTokens);
        _swapCache = numCpuBlocks > 0 ? model.CreateKvCache(numCpuBlocks, blockSizeTokens) : null;
        _suppress = [.. stopTokenIds];
        _defaultSeed = defaultSeed;
    }

    public long NumSteps { get; private set; }
    public long NumTokensComputed { get; private set; }
    /// <summary>Sum over steps of the sequences computed (÷ NumSteps = mean batch size).</summary>
    public long NumSequencesComputed { get; private set; }
    /// <summary>Prompt tokens computed by the last step (0 = a pure decode step).</summary>
    public int LastStepPrefillTokens { get; private set; }

    public StepOutputs Execute(StepPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        NumSteps++;
        // Swap-outs, then swap-ins, then copies (the plan's order: a block freed by a swap-out may be reused).
        if (plan.NumSwapOut > 0)
            Move(_cache, SwapCache, plan.SwapOutPairs);
        if (plan.NumSwapIn > 0)
            Move(SwapCache, _cache, plan.SwapInPairs);
        if (plan.NumBlockCopies > 0)
            Copy(plan.BlockCopyPairs);

        _outputs.Clear();
        LastStepPrefillTokens = plan.NumPrefillTokens;
        if (plan.NumSequences == 0)
            return _outputs;
        plan.Describe(_input);
        int rows = plan.NumLogitsRows;
        int vocab = _model.Config.VocabSize;
        if (_logits.Length < rows * vocab)
            _logits = new float[rows * vocab];
        var masks = StepMasks.Start(plan);   // structured-output masks, computed while the model runs
        _model.Forward(_input, _cache, _logits.AsSpan(0, rows * vocab));
        masks.GetAwaiter().GetResult();
        NumTokensComputed += plan.NumTokens;
        NumSequencesComputed += plan.NumSequences;

        var logitsRows = plan.LogitsSequenceRow;
        var numSamples = plan.NumSamples;
        var numCandidates = plan.NumBeamCandidates;
        var suppress = plan.SuppressStop;
        int l = 0;
        for (int k = 0; k < plan.NumSequences; k++)
        {
            _outputs.BeginEntry();
            if (l == rows || logitsRows[l] != k)
                continue;
            var logits = _logits.AsSpan(l * vocab, vocab);
            var row = plan.SamplingOf(l);
            var p = row.Params;
            _sampler.Prepare(logits, p, row.PromptTokens, row.GeneratedTokens, suppress[l] != 0 ? Suppressed(p) : [],
                _validTokenCount, row.Constraints);
            int candidates = numCandidates[l];
            int samples = numSamples[l];
            l++;
            if (candidates > 0)
            {
                if (_top.Length < candidates)
                    _top = new TokenLogprob[candidates];
                int n = _sampler.TopTokens(candidates, _top);
                for (int j = 0; j < n; j++)
                    _outputs.AddSample(_top[j].TokenId, _top[j].LogProb);
                continue;
            }
            long seed = row.Seed ?? _defaultSeed;
            for (int s = 0; s < samples; s++)
            {
                // Sample i of a completed n-sample prompt draws from stream i; later each sequence from its own.
                int index = samples > 1 ? s : row.StreamIndex;
                int token = _sampler.Sample(p, SampleStream.Uniform(seed, index, row.NumTokens));
                int numTop = _sampler.TopTokens(p.Logprobs ?? 0, _top);
                _outputs.AddSample(token, _sampler.LogProb(token), _top.AsSpan(0, numTop));
            }
        }
        return _outputs;
    }

    private int[] Suppressed(SamplingParams p) => p.StopTokenIds.Count == 0 ? _suppress : [.. _suppress, .. p.StopTokenIds];

    private DeviceKvCache SwapCache =>
        _swapCache ?? throw new InvalidOperationException("the plan swaps blocks but the executor has no swap cache (NumCpuBlocks = 0)");

    private void Move(DeviceKvCache from, DeviceKvCache to, ReadOnlySpan<int> pairs)
    {
        int n = Split(pairs);
        _backend.MoveBlocks(from, to, _src.AsSpan(0, n), _dst.AsSpan(0, n));
    }

    private void Copy(ReadOnlySpan<int> pairs)
    {
        int n = Split(pairs);
        _backend.CopyBlocks(_cache, _src.AsSpan(0, n), _dst.AsSpan(0, n));
    }

    /// <summary>(src, dst) pairs into the reused source and destination arrays; returns the pair count.</summary>
    private int Split(ReadOnlySpan<int> pairs)
    {
        int n = pairs.Length / 2;
        if (_src.Length < n)
        {
            _src = new int[Math.Max(n, 2 * _src.Length)];
            _dst = new int[_src.Length];
        }
        for (int i = 0; i < n; i++)
        {
            _src[i] = pairs[2 * i];
            _dst[i] = pairs[2 * i + 1];
        }
        return n;
    }

    public void Dispose()
    {
        _cache.Dispose();
        _swapCache?.Dispose();
    }
}
