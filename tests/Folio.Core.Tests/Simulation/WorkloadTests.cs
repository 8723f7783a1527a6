using Folio.Core.Simulation;

namespace Folio.Core.Tests.Simulation;

public class WorkloadTests
{
    [Theory]
    [InlineData(WorkloadKind.ShareGptLike, 161.31, 337.99)]
    [InlineData(WorkloadKind.AlpacaLike, 19.31, 58.45)]
    public void Means_are_within_5_percent_of_the_paper(WorkloadKind kind, double inputMean, double outputMean)
    {
        foreach (int seed in new[] { 1, 2, 3 })
        {
            SimRequest[] requests = SyntheticWorkload.Generate(kind, 10_000, seed);
            double input = requests.Average(r => r.InputTokens);
            double output = requests.Average(r => r.OutputTokens);
            Assert.InRange(input, inputMean * 0.95, inputMean * 1.05);
            Assert.InRange(output, outputMean * 0.95, outputMean * 1.05);
        }
    }

    [Fact]
    public void Every_request_fits_the_maximum_sequence_length()
    {
        SimRequest[] requests = SyntheticWorkload.Generate(WorkloadKind.ShareGptLike, 50_000, seed: 7);
        Assert.All(requests, r =>
        {
            Assert.True(r.InputTokens >= 1 && r.OutputTokens >= 1);
            Assert.True(r.TotalTokens <= SimulationOptions.DefaultMaxSequenceTokens);
        });
    }

    [Fact]
    public void The_same_seed_gives_the_same_requests_and_another_seed_does_not()
    {
        SimRequest[] a = SyntheticWorkload.Generate(WorkloadKind.AlpacaLike, 500, seed: 42);
        SimRequest[] b = SyntheticWorkload.Generate(WorkloadKind.AlpacaLike, 500, seed: 42);
        SimRequest[] c = SyntheticWorkload.Generate(WorkloadKind.AlpacaLike, 500, seed: 43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
