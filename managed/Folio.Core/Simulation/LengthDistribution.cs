namespace Folio.Core.Simulation;

/// <summary>
/// A log-normal length distribution rounded to whole tokens and truncated to [MinTokens, MaxTokens] by
/// rejection. Log-normal because both of the paper's datasets are long-tailed (Fig. 11): most requests are
/// short, a few are very long. Mu is derived from the wanted mean so the untruncated mean is exact; the
/// rounding and truncation move it by well under 5% for the parameters used here (checked by tests).
/// </summary>
public sealed class LengthDistribution
{
    public LengthDistribution(double meanTokens, double sigma, int minTokens, int maxTokens)
    {
        if (meanTokens <= 0) throw new ArgumentOutOfRangeException(nameof(meanTokens), "mean must be positive");
        if (sigma < 0) throw new ArgumentOutOfRangeException(nameof(sigma), "sigma must not be negative");
        if (minTokens < 1 || maxTokens < minTokens)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), "need 1 <= min <= max");
        MeanTokens = meanTokens;
        Sigma = sigma;
        MinTokens = minTokens;
        MaxTokens = maxTokens;
        // E[exp(N(mu, sigma^2))] = exp(mu + sigma^2 / 2).
        Mu = Math.Log(meanTokens) - sigma * sigma / 2;
    }

    public double MeanTokens { get; }
    public double Sigma { get; }
    public double Mu { get; }
    public int MinTokens { get; }
    public int MaxTokens { get; }

    /// <summary>Draws one length; the caller owns the generator so runs are reproducible from a seed.</summary>
    public int Sample(Random random)
    {
        while (true)
        {
            double value = Math.Exp(Mu + Sigma * StandardNormal(random));
            if (value >= MaxTokens + 0.5) continue;
            int tokens = (int)Math.Round(value, MidpointRounding.AwayFromZero);
            if (tokens >= MinTokens && tokens <= MaxTokens) return tokens;
        }
    }

    // Box-Muller; 1 - NextDouble() is in (0, 1], so the logarithm is finite.
    private static double StandardNormal(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
