using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Core.Tests.Engine;

public class OutputProcessorTests
{
    [Fact]
    public void BeamSearch_OutputsCarryTheirText()
    {
        // Failed before the output processor: beams were never detokenized, so every beam's Text was "".
        var h = new EngineHarness();
        var r = h.Add(EngineHarness.Prompt(80, 6), new SamplingParams { BeamWidth = 3, MaxTokens = 5, IgnoreEos = true });
        h.RunToCompletion();
        var o = h.Engine.GetOutput(r);
        Assert.Equal(3, o.Outputs.Count);
        foreach (var c in o.Outputs)
            Assert.Equal(string.Concat(c.TokenIds.Select(FakeTextDecoder.TextOf)), c.Text);
    }
}
