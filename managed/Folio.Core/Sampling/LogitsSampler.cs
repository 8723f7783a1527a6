namespace Folio.Core.Sampling;

/// <summary>
/// Turns one row of logits into tokens, as vLLM does: penalties (repetition on prompt and output tokens,
/// presence and frequency on output tokens), suppressed ids (EOS/stop ids before min_tokens) set to −∞, then
/// greedy argmax (temperature 0) or temperature → top-k → top-p → min-p → a draw from
/// <see cref="SampleStream"/>. Log-probabilities are the log-softmax after penalties, before temperature and
/// filters. Ties resolve to the lowest token id; a NaN logit is never the argmax. An unfiltered draw walks the
/// exponentials (<see cref="PortableExp"/>'s: the same bits in every vector width) through <see cref="BlockSums"/>
/// (fixed blocks of 64, then the values of one block), so a seeded draw is a function of the row and u alone: the same
/// on any thread, in any batch, on any CPU. (Before the blocks the draw walked one
/// running sum over the whole row; a seed gives the same token as then except where u × total falls within rounding
/// of a boundary between two tokens.) Scratch buffers are reused: one sampler per thread.
/// </summary>
public sealed class LogitsSampler
{
    /// <summary>Below this many logits a row's exponentials stay on one thread: a fork costs microseconds, an
    /// exponential about a nanosecond (32,000 logits: ~30 µs on one Zen 4 core).</summary>
    private const int MinChunkedLogits = 8192;

    /// <summary>Rough operations per logit of the exponentials and their sums: the work a chunk runner weighs.</summary>
    private const long WorkPerLogit = 8;

    private float[] _work = [];
    private float[] _exp = [];
    private float _max;
    /// <summary>The index of <see cref="_max"/> (the greedy token), from <see cref="Prepare"/>.</summary>
    private int _argMax;
    private float _logSumExp;
    /// <summary>The temperature-1 exponentials' <see cref="BlockSums"/> and their total, kept from <see cref="Prepare"/>
    /// (the log-sum-exp's sum) for a temperature-1 draw.</summary>
    private double[] _blockSums = [];
    private double _expSum;
    /// <summary>Chunks of the exponentials running now (set for the span of <see cref="TemperatureOneExponentials"/>).</summary>
    private int _chunkCount;
    /// <summary>Exponentials and block sums at another temperature (an unfiltered draw at T ≠ 1), apart from the
    /// temperature-1 ones so those stay valid for the next draw.</summary>
    private float[] _expAtTemperature = [];
    private double[] _blockSumsAtTemperature = [];
    private int[] _order = [];
    private readonly Dictionary<int, int> _counts = [];

    /// <summary>The penalised logits of the last <see cref="Prepare"/> (for tests).</summary>
    private readonly DescendingLogit _byLogit = new();
    private readonly Comparison<int> _compareByLogit;

    // One delegate for every sort: Array.Sort with an IComparer makes a new Comparison on each call.
    public LogitsSampler() => _compareByLogit = _byLogit.Compare;

    internal ReadOnlySpan<float> Work => _work;

    /// <summary>The temperature-1 exponentials of the last <see cref="Prepare"/> (for tests).</summary>
    internal ReadOnlySpan<float> Exponentials1 => _exp;

    /// <summary>Applies penalties and suppression to a copy of <paramref name="logits"/> and computes log-probabilities.
    /// Ids at or past <paramref name="validTokenCount"/> are suppressed too: a model's padding rows past its
    /// tokenizer's vocabulary (<c>TextTokenizer.VocabularySize</c>; Qwen pads its embedding) decode to nothing.
    /// <paramref name="constraints"/> (structured output mask, allowed ids, bad words, logit bias) apply first.
    /// When nothing is left (every token −∞), the row samples the lowest id. With <paramref name="chunks"/>, the
    /// exponentials of a long row run in chunks on its threads (the same bits).</summary>
    public void Prepare(ReadOnlySpan<float> logits, SamplingParams p, ReadOnlySpan<int> promptTokens,
        ReadOnlySpan<int> generatedTokens, ReadOnlySpan<int> suppressed, int validTokenCount = int.MaxValue,
        LogitsConstraints constraints = default, IRowChunkRunner? chunks = null)
    {
        if (validTokenCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(validTokenCount), validTokenCount, "at least one token must be valid");
        int vocab = logits.Length;
        if (_work.Length != vocab)
        {
            _work = new float[vocab];
            _exp = new float[vocab];
            _order = new int[vocab];
            _blockSums = new double[BlockSums.BlockCount(vocab)];
        }
        logits.CopyTo(_work);
        constraints.Apply(_work, generatedTokens);
        if (p.RepetitionPenalty != 1f)
        {
            // Each distinct token once: a logit is divided (if positive) or multiplied by the penalty.
            _counts.Clear();
            foreach (int t in promptTokens) _counts.TryAdd(t, 0);
            foreach (int t in generatedTokens) _counts.TryAdd(t, 0);
            foreach (int t in _counts.Keys)
                if ((uint)t < (uint)vocab)
                    _work[t] = _work[t] > 0 ? _work[t] / p.RepetitionPenalty : _work[t] * p.RepetitionPenalty;
        }
        if (p.PresencePenalty != 0f || p.FrequencyPenalty != 0f)
        {
            _counts.Clear();
            foreach (int t in generatedTokens)
                _counts[t] = _counts.GetValueOrDefault(t) + 1;
            foreach (var (t, count) in _counts)
                if ((uint)t < (uint)vocab)
                    _work[t] -= p.FrequencyPenalty * count + p.PresencePenalty;
        }
        foreach (int t in suppressed)
            if ((uint)t < (uint)vocab)
                _work[t] = float.NegativeInfinity;
        if (validTokenCount < vocab)
            _work.AsSpan(validTokenCount).Fill(float.NegativeInfinity);
        // log-softmax's normaliser, with exp(x − max) kept for a temperature-1 draw.
        _argMax = ArgMax.Of(_work);
        _max = _work[_argMax];
        if (float.IsNegativeInfinity(_max))
        {
            // Nothing allowed (constraints and suppression left no token): exp(−∞ − −∞) would be NaN. Every draw
            // then takes the argmax (the lowest id).
            _logSumExp = float.NegativeInfinity;
            return;
        }
        _expSum = TemperatureOneExponentials(chunks);
        _logSumExp = (float)Math.Log(_expSum) + _max;
    }

    /// <summary>_exp = exp(work − max) and its block sums; returns their total. Cut at block boundaries into one chunk
    /// per thread of <paramref name="chunks"/> when the row is long: each chunk's exponentials are the whole row's
    /// (an element-wise op) and its block sums are <see cref="BlockSums.Compute"/>'s, added in block order after all
    /// have run.</summary>
    private double TemperatureOneExponentials(IRowChunkRunner? chunks)
    {
        int blocks = _blockSums.Length;
        // Two blocks a chunk at least (a fork costs more than a block's work). Where the cuts fall changes no bit:
        // PortableExp gives a chunk's scalar tail the bits its vectors would.
        int count = chunks is { Threads: > 1 } && _work.Length >= MinChunkedLogits ? Math.Min(chunks.Threads, blocks / 2) : 1;
        _chunkCount = count;
        if (count == 1)
            ExponentialsChunk(0);
        else
            chunks!.Run(count, _work.Length * WorkPerLogit, this, static (sampler, c) => sampler.ExponentialsChunk(c));
        return BlockSums.Total(_blockSums);
    }

    /// <summary>Chunk <paramref name="chunk"/> of <see cref="_chunkCount"/>: its whole blocks' exponentials and sums.</summary>
    private void ExponentialsChunk(int chunk)
    {
        int blocks = _blockSums.Length;
        int firstBlock = (int)((long)blocks * chunk / _chunkCount), endBlock = (int)((long)blocks * (chunk + 1) / _chunkCount);
        int start = firstBlock * BlockSums.BlockSize, end = Math.Min(_work.Length, endBlock * BlockSums.BlockSize);
        PortableExp.ExpShifted(_work.AsSpan(start, end - start), _max, 1f, _exp.AsSpan(start, end - start));
        BlockSums.ComputeBlocks(_exp, _blockSums, firstBlock, endBlock);
    }

    /// <summary>destination[i] = exp((work[i] − max) × (1 / temperature)) in one vectorised pass.</summary>
    private void Exponentials(float inverseTemperature, float[] destination) =>
        PortableExp.ExpShifted(_work, _max, inverseTemperature, destination);

    /// <summary>Samples from the prepared row with the uniform draw <paramref name="u"/> in [0, 1).</summary>
    public int Sample(SamplingParams p, double u)
    {
        int vocab = _work.Length;
        if (p.Temperature == 0f || float.IsNegativeInfinity(_max))
            return _argMax;
        // Candidates in descending logit order are needed only when a filter cuts the distribution.
        bool filtered = p.TopK > 0 && p.TopK < vocab || p.TopP < 1f || p.MinP > 0f;
        float inverseT = 1f / p.Temperature;
        float max = _max;
        if (!filtered)
        {
            if (inverseT == 1f)
                return BlockSums.Draw(_exp, _blockSums, u * _expSum);
            if (_expAtTemperature.Length != vocab)
            {
                _expAtTemperature = new float[vocab];
                _blockSumsAtTemperature = new double[_blockSums.Length];
            }
            Exponentials(inverseT, _expAtTemperature);
            double total = BlockSums.Compute(_expAtTemperature, _blockSumsAtTemperature);
            return BlockSums.Draw(_expAtTemperature, _blockSumsAtTemperature, u * total);
        }
        int n = SortedCandidates(p.TopK > 0 ? Math.Min(p.TopK, vocab) : vocab);
        // Probabilities of the kept candidates (after temperature), renormalised at each filter.
        double sum = 0;
        for (int j = 0; j < n; j++)
            sum += Math.Exp((_work[_order[j]] - max) * inverseT);
        if (p.TopP < 1f)
        {
            double cumulative = 0;
            int keep = n;
            for (int j = 0; j < n; j++)
            {
                cumulative += Math.Exp((_work[_order[j]] - max) * inverseT) / sum;
                if (cumulative >= p.TopP)
                {
                    keep = j + 1;
                    break;
                }
            }
            n = keep;
        }
        if (p.MinP > 0f)
        {
            // The top candidate has probability ∝ exp(0); keep those at least min_p times it.
            int keep = 1;
            while (keep < n && Math.Exp((_work[_order[keep]] - max) * inverseT) >= p.MinP)
                keep++;
            n = keep;
        }
        double kept = 0;
        for (int j = 0; j < n; j++)
            kept += Math.Exp((_work[_order[j]] - max) * inverseT);
        double goal = u * kept, acc = 0;
        for (int j = 0; j < n; j++)
        {
            acc += Math.Exp((_work[_order[j]] - max) * inverseT);
            if (acc > goal)
                return _order[j];
        }
        return _order[n - 1];
    }

    public float LogProb(int token) => float.IsNegativeInfinity(_logSumExp) ? float.NegativeInfinity : _work[token] - _logSumExp;

    /// <summary>The <paramref name="k"/> most likely tokens (by log-probability, ties to the lower id), best first.</summary>
    public int TopTokens(int k, Span<TokenLogprob> destination)
    {
        int n = SortedCandidates(Math.Min(k, _work.Length));
        for (int j = 0; j < n; j++)
            destination[j] = new TokenLogprob(_order[j], LogProb(_order[j]));
        return n;
    }

    /// <summary>Puts the <paramref name="k"/> largest logits' ids, descending (ties: lower id first), in _order[0..k).</summary>
    private int SortedCandidates(int k)
    {
        int vocab = _work.Length;
        if (k <= 0)
            return 0;
        if (k >= vocab / 8)
        {
            for (int i = 0; i < vocab; i++)
                _order[i] = i;
            _byLogit.Work = _work;
            _order.AsSpan(0, vocab).Sort(_compareByLogit);
            return k;
        }
        // Small k: insertion into a sorted prefix (k·vocab worst case, ~vocab for typical logits).
        int count = 0;
        for (int i = 0; i < vocab; i++)
        {
            float v = _work[i];
            if (count == k && !(v > _work[_order[k - 1]]))
                continue;
            int j = count < k ? count++ : k - 1;
            while (j > 0 && v > _work[_order[j - 1]])
            {
                _order[j] = _order[j - 1];
                j--;
            }
            _order[j] = i;
        }
        return count;
    }

    /// <summary>Descending logit, ties by lower id; one instance and one delegate to it reused (a lambda would
    /// allocate every sort).</summary>
    private sealed class DescendingLogit : IComparer<int>
    {
        public float[] Work = [];

        public int Compare(int a, int b) => Work[b].CompareTo(Work[a]) is var c && c != 0 ? c : a.CompareTo(b);
    }
}
