using Folio.Core.Simulation;

namespace Folio.Core.Tests.Simulation;

public class AlpacaLengthModelTests
{
    [Fact]
    public void Sigma_matches_the_coefficient_of_variation()
    {
        Assert.Equal(0.0, AlpacaLengthModel.SigmaForCv(0.0));
        Assert.Equal(Math.Sqrt(Math.Log(2.0)), AlpacaLengthModel.SigmaForCv(1.0), 12);
        // A log-normal with sigma² = ln(1 + CV²) has that CV: sqrt(exp(sigma²) - 1).
        double sigma = AlpacaLengthModel.SigmaForCv(1.441);
        Assert.Equal(1.441, Math.Sqrt(Math.Exp(sigma * sigma) - 1), 12);
    }

    // E[o²] / E[o]² of the model, from its constants: a mixture of two moment-matched log-normals (the scale
    // factor cancels).
    private static double OutputSecondMomentRatio(double outputMean)
    {
        const double w = AlpacaLengthModel.WithInputShare;
        double rawOutput = w * AlpacaLengthModel.WithInputOutputMean + (1 - w) * AlpacaLengthModel.NoInputOutputMean;
        double s = outputMean / rawOutput;
        double a = AlpacaLengthModel.WithInputOutputMean * s, b = AlpacaLengthModel.NoInputOutputMean * s;
        double second = w * a * a * (1 + Math.Pow(AlpacaLengthModel.WithInputOutputCv, 2))
            + (1 - w) * b * b * (1 + Math.Pow(AlpacaLengthModel.NoInputOutputCv, 2));
        return second / (outputMean * outputMean);
    }

    [Fact]
    public void Draws_have_the_wanted_means_the_model_second_moment_and_a_negative_correlation()
    {
        var model = new AlpacaLengthModel(19.31, 58.45, 2047, 2047);
        var random = new Random(11);
        const int n = 200_000;
        double sp = 0, so = 0, so2 = 0, spo = 0;
        for (int i = 0; i < n; i++)
        {
            var (p, o) = model.Sample(random);
            Assert.True(p >= 1 && o >= 1);
            sp += p; so += o; so2 += (double)o * o; spo += (double)p * o;
        }
        double mp = sp / n, mo = so / n;
        // Rounding to whole tokens moves the means by well under 2%.
        Assert.InRange(mp, 19.31 * 0.98, 19.31 * 1.02);
        Assert.InRange(mo, 58.45 * 0.98, 58.45 * 1.02);
        // E[o²] / E[o]² = 2.07 for these constants (the sample's 2.13; the old log-normal sigma 0.7 had 1.63).
        double ratio = OutputSecondMomentRatio(58.45);
        Assert.Equal(2.07, ratio, 2);
        Assert.InRange(so2 / n / (mo * mo), ratio * 0.95, ratio * 1.05);
        // Longer prompts (with an input) come with shorter outputs.
        double cov = spo / n - mp * mo;
        Assert.True(cov < 0, $"covariance {cov}");
    }

    [Fact]
    public void Scaling_to_other_means_keeps_the_shape()
    {
        var model = new AlpacaLengthModel(190, 580, 100_000, 100_000);
        var random = new Random(5);
        const int n = 100_000;
        double sp = 0, so = 0;
        for (int i = 0; i < n; i++)
        {
            var (p, o) = model.Sample(random);
            sp += p; so += o;
        }
        Assert.InRange(sp / n, 190 * 0.98, 190 * 1.02);
        Assert.InRange(so / n, 580 * 0.98, 580 * 1.02);
    }

    [Fact]
    public void Lengths_stay_within_the_limits()
    {
        var model = new AlpacaLengthModel(19, 58, 40, 100);
        var random = new Random(3);
        for (int i = 0; i < 50_000; i++)
        {
            var (p, o) = model.Sample(random);
            Assert.InRange(p, 1, 40);
            Assert.InRange(o, 1, 100);
        }
    }

    [Fact]
    public void Non_positive_means_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlpacaLengthModel(0, 58, 100, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlpacaLengthModel(19, -1, 100, 100));
    }
}
