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
    private readonly int[] _suppress;
    private readonly StepOutputs _outputs = new();
    private readonly LogitsSampler _sampler = new();
    private readonly List<int> _src = [];
    private readonly List<int> _dst = [];
    private TokenLogprob[] _top = new TokenLogprob[SamplingParams.MaxLogprobs];
    private float[] _logits = [];

    /// <param name="stopTokenIds">EOS ids of the model, suppressed while min_tokens is not reached.</param>
    public ModelExecutor(DecoderModel model, IComputeBackend backend, int numGpuBlocks, int numCpuBlocks, int blockSizeTokens,
        IReadOnlyList<int> stopTokenIds, long defaultSeed = 0)
    {
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
        if (plan.SwapOut.Count > 0)
            Move(_cache, SwapCache, plan.SwapOut.Select(m => (m.SrcBlock, m.DstBlock)));
        if (plan.SwapIn.Count > 0)
            Move(SwapCache, _cache, plan.SwapIn.Select(m => (m.SrcBlock, m.DstBlock)));
        if (plan.BlockCopies.Count > 0)
            Move(_cache, _cache, plan.BlockCopies.Select(c => (c.SrcBlock, c.DstBlock)));

        _outputs.Clear();
        LastStepPrefillTokens = plan.NumPrefillTokens;
        var entries = plan.Sequences;
        if (entries.Length == 0)
            return _outputs;
        var input = BuildInput(plan, out int numLogitRows);
        int vocab = _model.Config.VocabSize;
        if (_logits.Length < numLogitRows * vocab)
            _logits = new float[numLogitRows * vocab];
        _model.Forward(input, _cache, _logits.AsSpan(0, numLogitRows * vocab));
        NumTokensComputed += plan.NumTokens;
        NumSequencesComputed += entries.Length;

        int row = 0;
        foreach (var e in entries)
        {
            _outputs.BeginEntry();
            if (!e.NeedsLogits)
                continue;
            var logits = _logits.AsSpan(row++ * vocab, vocab);
            var seq = e.Sequence;
            var p = seq.Request.Params;
            _sampler.Prepare(logits, p, seq.Request.PromptTokenIds, seq.GeneratedTokens,
                e.SuppressStopTokens ? Suppressed(p) : []);
            if (e.NumBeamCandidates > 0)
            {
                if (_top.Length < e.NumBeamCandidates)
                    _top = new TokenLogprob[e.NumBeamCandidates];
                int n = _sampler.TopTokens(e.NumBeamCandidates, _top);
                for (int j = 0; j < n; j++)
                    _outputs.AddSample(_top[j].TokenId, _top[j].LogProb);
                continue;
            }
            long seed = p.Seed ?? _defaultSeed;
            for (int s = 0; s < e.NumSamples; s++)
            {
                // Sample i of a completed n-sample prompt draws from stream i; later each sequence from its own.
                int index = e.NumSamples > 1 ? s : seq.Index;
                int token = _sampler.Sample(p, SampleStream.Uniform(seed, index, seq.NumTokens));
                int numTop = _sampler.TopTokens(p.Logprobs ?? 0, _top);
                _outputs.AddSample(token, _sampler.LogProb(token), _top.AsSpan(0, numTop));
            }
        }
        return _outputs;
    }

    private int[] Suppressed(SamplingParams p) => p.StopTokenIds.Count == 0 ? _suppress : [.. _suppress, .. p.StopTokenIds];

    private DeviceKvCache SwapCache =>
        _swapCache ?? throw new InvalidOperationException("the plan swaps blocks but the executor has no swap cache (NumCpuBlocks = 0)");

    private void Move(DeviceKvCache from, DeviceKvCache to, IEnumerable<(int Src, int Dst)> pairs)
    {
        _src.Clear();
        _dst.Clear();
        foreach (var (s, d) in pairs)
        {
            _src.Add(s);
            _dst.Add(d);
        }
        _backend.MoveBlocks(from, to, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_src),
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_dst));
    }

    private ModelInput BuildInput(StepPlan plan, out int numLogitRows)
    {
        var entries = plan.Sequences;
        int n = entries.Length;
        var starts = new int[n + 1];
        var contexts = new int[n];
        int stride = 0;
        var logitRows = new List<int>(n);
        for (int i = 0; i < n; i++)
        {
            var e = entries[i];
            starts[i] = e.TokenOffset;
            contexts[i] = e.StartPosition + e.NumTokens;
            stride = Math.Max(stride, (contexts[i] + _blockSize - 1) / _blockSize);
            if (e.NeedsLogits)
                logitRows.Add(e.TokenOffset + e.NumTokens - 1);
        }
        starts[n] = plan.NumTokens;
        var tables = new int[n * stride];
        for (int i = 0; i < n; i++)
        {
            int blocks = (contexts[i] + _blockSize - 1) / _blockSize;
            entries[i].Table.Blocks[..blocks].CopyTo(tables.AsSpan(i * stride));
        }
        numLogitRows = logitRows.Count;
        return new ModelInput
        {
            TokenIds = plan.TokenIds.ToArray(),
            Positions = plan.Positions.ToArray(),
            SlotMapping = plan.SlotMapping.ToArray(),
            Attention = new AttentionBatch { QueryStarts = starts, ContextLengths = contexts, BlockTables = tables, BlockTableStride = stride },
            LogitRows = [.. logitRows],
        };
    }

    public void Dispose()
    {
        _cache.Dispose();
        _swapCache?.Dispose();
    }
}
