using Folio.Core.KvCache;

namespace Folio.Core.Simulation;

/// <summary>The live beams of one request and the buffers a beam-search step reuses (nothing allocated per step but forks).</summary>
internal sealed class BeamState(int width)
{
    public int Width { get; } = width;
    /// <summary>Live sequences; for parallel sampling, the samples.</summary>
    public List<BlockTable> Beams { get; } = new(width);
    public List<BlockTable> NextBeams { get; } = new(width);
    /// <summary>Cumulative log-probability of each beam, index-aligned with <see cref="Beams"/>.</summary>
    public double[] Scores { get; } = new double[width];
    public double[] NextScores { get; } = new double[width];
    public int[] Children { get; } = new int[width];
    /// <summary>The best `width` candidates of a step, best first.</summary>
    public SimulatedBeamChoice[] Candidates { get; } = new SimulatedBeamChoice[width];
    /// <summary>Per beam, the log-probability of its best candidate not yet taken.</summary>
    public double[] Heads { get; } = new double[width];
}
