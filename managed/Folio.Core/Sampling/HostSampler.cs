using Folio.Core.Compute;
using Folio.Core.Scheduling;

namespace Folio.Core.Sampling;

/// <summary>
/// The reference <see cref="ISampler"/>: each logits row on the host through <see cref="LogitsSampler"/>
/// (penalties, suppression, greedy or temperature → top-k → top-p → min-p, seeded draws, top logprobs, beam
/// candidates). A backend whose logits live in host memory overrides <see cref="HostLogits"/> to read them in
/// place (the CPU backend); any other backend gets them through <see cref="IComputeBackend.Download"/>, which is
/// correct but moves every row. Its scratch is reused: a steady step allocates nothing.
/// </summary>
public class HostSampler : ISampler
{
    private readonly IComputeBackend _backend;
    private readonly LogitsSampler _sampler = new();
    private readonly int[] _eos;
    private readonly long _defaultSeed;
    private readonly int _validTokenCount;

    /// <summary>The seed of requests without one.</summary>
    protected long DefaultSeed => _defaultSeed;

    /// <summary>Ids the tokenizer can produce; rows past it are never sampled.</summary>
    protected int ValidTokenCount => _validTokenCount;
    private int[] _suppressed;
    private TokenLogprob[] _top = new TokenLogprob[SamplingParams.MaxLogprobs];
    private float[] _logits = [];

    public HostSampler(IComputeBackend backend, SamplerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.ValidTokenCount);
        _backend = backend;
        _eos = [.. settings.EosTokenIds];
        _suppressed = new int[_eos.Length + 8];
        _defaultSeed = settings.DefaultSeed;
        _validTokenCount = settings.ValidTokenCount;
    }

    /// <summary>All rows of <paramref name="logits"/> as host floats, row-major (valid until the next call).</summary>
    protected virtual ReadOnlySpan<float> HostLogits(DeviceTensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        int count = checked(logits.Rows * logits.Cols);
        if (_logits.Length < count)
            _logits = new float[count];
        _backend.Download(logits, _logits.AsSpan(0, count));
        return _logits.AsSpan(0, count);
    }

    public virtual void Sample(StepContext step, DeviceTensor logits, StepPlan plan, StepOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outputs);
        int rows = plan.NumLogitsRows;
        if (logits.Rows != rows)
            throw new ArgumentException($"Sample: {logits.Rows} logits rows for a plan with {rows}", nameof(logits));
        outputs.Clear();
        int vocab = logits.Cols;
        var all = rows > 0 ? HostLogits(logits) : default;
        var logitsRows = plan.LogitsSequenceRow;
        int l = 0;
        for (int k = 0; k < plan.NumSequences; k++)
        {
            outputs.BeginEntry();
            if (l == rows || logitsRows[l] != k)
                continue;
            SampleRow(all.Slice(l * vocab, vocab), plan, l, outputs);
            l++;
        }
    }

    /// <summary>Samples the plan's logits row <paramref name="l"/> (<paramref name="rowLogits"/>, its vocabulary's
    /// values on the host) into the entry the caller has opened: its samples, or its beam candidates.</summary>
    protected void SampleRow(ReadOnlySpan<float> rowLogits, StepPlan plan, int l, StepOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outputs);
        var row = plan.SamplingOf(l);
        var p = row.Params;
        _sampler.Prepare(rowLogits, p, row.PromptTokens, row.GeneratedTokens, plan.SuppressStop[l] != 0 ? Suppressed(p) : [],
            _validTokenCount, row.Constraints);
        int candidates = plan.NumBeamCandidates[l];
        int samples = plan.NumSamples[l];
        if (candidates > 0)
        {
            if (_top.Length < candidates)
                _top = new TokenLogprob[candidates];
            int n = _sampler.TopTokens(candidates, _top);
            for (int j = 0; j < n; j++)
                outputs.AddSample(_top[j].TokenId, _top[j].LogProb);
            return;
        }
        long seed = row.Seed ?? _defaultSeed;
        for (int s = 0; s < samples; s++)
        {
            // Sample i of a completed n-sample prompt draws from stream i; later each sequence from its own.
            int index = samples > 1 ? s : row.StreamIndex;
            int token = _sampler.Sample(p, SampleStream.Uniform(seed, index, row.NumTokens));
            int numTop = _sampler.TopTokens(p.Logprobs ?? 0, _top);
            outputs.AddSample(token, _sampler.LogProb(token), _top.AsSpan(0, numTop));
        }
    }

    /// <summary>The model's EOS ids and the request's stop token ids, in a reused buffer.</summary>
    protected ReadOnlySpan<int> Suppressed(SamplingParams p)
    {
        var stops = p.StopTokenIds;
        if (stops.Count == 0)
            return _eos;
        int n = _eos.Length + stops.Count;
        if (_suppressed.Length < n)
            _suppressed = new int[Math.Max(n, 2 * _suppressed.Length)];
        _eos.CopyTo(_suppressed, 0);
        for (int i = 0; i < stops.Count; i++)
            _suppressed[_eos.Length + i] = stops[i];
        return _suppressed.AsSpan(0, n);
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
