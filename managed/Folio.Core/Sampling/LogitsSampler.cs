using System.Numerics.Tensors;

namespace Folio.Core.Sampling;

/// <summary>
/// Turns one row of logits into tokens, as vLLM does: penalties (repetition on prompt and output tokens,
/// presence and frequency on output tokens), suppressed ids (EOS/stop ids before min_tokens) set to −∞, then
/// greedy argmax (temperature 0) or temperature → top-k → top-p → min-p → a draw from
/// <see cref="SampleStream"/>. Log-probabilities are the log-softmax after penalties, before temperature and
/// filters. Ties resolve to the lowest token id. Scratch buffers are reused: one sampler per thread.
/// </summary>
public sealed class LogitsSampler
{
    private float[] _work = [];
    private float[] _exp = [];
    private float _max;
    private float _logSumExp;
    /// <summary>Σ _exp in index order at temperature 1, kept from <see cref="Prepare"/> so that a temperature-1 draw
    /// does not sum the vocabulary a second time (a 32,000-long chain of dependent double adds: ~40 µs a row).</summary>
    private double _expSum;
    private int[] _order = [];
    private readonly Dictionary<int, int> _counts = [];

    /// <summary>The penalised logits of the last <see cref="Prepare"/> (for tests).</summary>
    private readonly DescendingLogit _byLogit = new();
    private readonly Comparison<int> _compareByLogit;

    // One delegate for every sort: Array.Sort with an IComparer makes a new Comparison on each call.
    public LogitsSampler() => _compareByLogit = _byLogit.Compare;

    internal ReadOnlySpan<float> Work => _work;

    /// <summary>Applies penalties and suppression to a copy of <paramref name="logits"/> and computes log-probabilities.
    /// Ids at or past <paramref name="validTokenCount"/> are suppressed too: a model's padding rows past its
    /// tokenizer's vocabulary (<c>TextTokenizer.VocabularySize</c>; Qwen pads its embedding) decode to nothing.
    /// <paramref name="constraints"/> (structured output mask, allowed ids, bad words, logit bias) apply first.
    /// When nothing is left (every token −∞), the row samples the lowest id.</summary>
    public void Prepare(ReadOnlySpan<float> logits, SamplingParams p, ReadOnlySpan<int> promptTokens,
        ReadOnlySpan<int> generatedTokens, ReadOnlySpan<int> suppressed, int validTokenCount = int.MaxValue,
        LogitsConstraints constraints = default)
    {
        if (validTokenCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(validTokenCount), validTokenCount, "at least one token must be valid");
        int vocab = logits.Length;
        if (_work.Length != vocab)
        {
            _work = new float[vocab];
            _exp = new float[vocab];
            _order = new int[vocab];
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
        _max = _work[ArgMax(_work)];
        if (float.IsNegativeInfinity(_max))
        {
            // Nothing allowed (constraints and suppression left no token): exp(−∞ − −∞) would be NaN.
            _exp.AsSpan().Clear();
            _exp[0] = 1;
            _expSum = 1;
            _logSumExp = float.NegativeInfinity;
            return;
        }
        Exponentials(1f);
        _expSum = SumInOrder(_exp);
        _logSumExp = (float)Math.Log(_expSum) + _max;
    }

    /// <summary>_exp[i] = exp((work[i] − max) / temperature), vectorised.</summary>
    private void Exponentials(float inverseTemperature)
    {
        TensorPrimitives.Subtract(_work, _max, _exp);
        if (inverseTemperature != 1f)
            TensorPrimitives.Multiply(_exp, inverseTemperature, _exp);
        TensorPrimitives.Exp(_exp, _exp);
    }

    private static double SumInOrder(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (float x in v)
            s += x;
        return s;
    }

    /// <summary>Samples from the prepared row with the uniform draw <paramref name="u"/> in [0, 1).</summary>
    public int Sample(SamplingParams p, double u)
    {
        int vocab = _work.Length;
        if (p.Temperature == 0f || float.IsNegativeInfinity(_max))
            return ArgMax(_work);
        // Candidates in descending logit order are needed only when a filter cuts the distribution.
        bool filtered = p.TopK > 0 && p.TopK < vocab || p.TopP < 1f || p.MinP > 0f;
        float inverseT = 1f / p.Temperature;
        float max = _max;
        if (!filtered)
        {
            if (inverseT != 1f)
                Exponentials(inverseT);
            // At temperature 1 the sum is Prepare's (the same values summed in the same order; a draw at another
            // temperature restores the temperature-1 values bit for bit below, so it stays valid for the next draw).
            double target = u * (inverseT != 1f ? SumInOrder(_exp) : _expSum), running = 0;
            int last = -1;
            for (int i = 0; i < vocab; i++)
            {
                float e = _exp[i];
                if (e == 0)
                    continue;
                last = i;
                running += e;
                if (running > target)
                    break;
            }
            if (inverseT != 1f)
                Exponentials(1f);   // restore the temperature-1 values for the next draw
            return last;
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

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
            if (v[i] > v[best])
                best = i;
        return best;
    }
}
