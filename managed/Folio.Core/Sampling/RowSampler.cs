using Folio.Core.Scheduling;

namespace Folio.Core.Sampling;

/// <summary>
/// What one thread of <see cref="HostSampler"/> samples rows with: its own <see cref="LogitsSampler"/>, top-logprob
/// and suppressed-id buffers, and (when a step's rows are spread over threads) its own <see cref="Outputs"/> that
/// the rows it took are written to before the sampler copies them out in plan order. Used by one thread at a time.
/// Sampling reads a row's constraints (the mask its sequence computed before the step, the request's immutable ids
/// and biases) and never calls an <see cref="ITokenConstraint"/>, so rows sharing a request sample on any thread.
/// </summary>
internal sealed class RowSampler(int[] eos, int validTokenCount, long defaultSeed)
{
    private readonly LogitsSampler _sampler = new();
    private TokenLogprob[] _top = new TokenLogprob[SamplingParams.MaxLogprobs];
    private int[] _suppressed = new int[eos.Length + 8];

    /// <summary>This thread's rows of the current step, one entry each, in the order it took them.</summary>
    public StepOutputs Outputs { get; } = new();

    /// <summary>Samples the plan's logits row <paramref name="l"/> (<paramref name="rowLogits"/>, its vocabulary's
    /// values on the host) into the entry the caller has opened: its samples, or its beam candidates. With
    /// <paramref name="chunks"/>, the row's exponentials run on its threads (the caller's job must not be one of them).</summary>
    public void SampleRow(ReadOnlySpan<float> rowLogits, StepPlan plan, int l, StepOutputs outputs, IRowChunkRunner? chunks = null)
    {
        var row = plan.SamplingOf(l);
        var p = row.Params;
        _sampler.Prepare(rowLogits, p, row.PromptTokens, row.GeneratedTokens, plan.SuppressStop[l] != 0 ? Suppressed(p) : [],
            validTokenCount, row.Constraints, chunks);
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
        long seed = row.Seed ?? defaultSeed;
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
    public ReadOnlySpan<int> Suppressed(SamplingParams p)
    {
        var stops = p.StopTokenIds;
        if (stops.Count == 0)
            return eos;
        int n = eos.Length + stops.Count;
        if (_suppressed.Length < n)
            _suppressed = new int[Math.Max(n, 2 * _suppressed.Length)];
        eos.CopyTo(_suppressed, 0);
        for (int i = 0; i < stops.Count; i++)
            _suppressed[eos.Length + i] = stops[i];
        return _suppressed.AsSpan(0, n);
    }
}
