namespace Folio.Core.Simulation;

/// <summary>A continuation proposed during one beam-search step: its cumulative log-probability and the beam it extends.</summary>
internal readonly record struct BeamCandidate(double LogProb, int Parent)
{
    /// <summary>Highest log-probability first; ties by parent so the order is deterministic.</summary>
    public static readonly IComparer<BeamCandidate> BestFirst = Comparer<BeamCandidate>.Create(
        (a, b) => a.LogProb != b.LogProb ? b.LogProb.CompareTo(a.LogProb) : a.Parent.CompareTo(b.Parent));
}
