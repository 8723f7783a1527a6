namespace Folio.Core.Scheduling;

/// <summary>A possible extension of a beam: parent entry in the plan, its rank there, the token and the new cumulative log-probability.</summary>
internal readonly record struct BeamCandidate(double CumulativeLogProb, int ParentEntry, int Rank, int TokenId, float LogProb)
    : IComparable<BeamCandidate>
{
    /// <summary>Best first; ties by parent order then rank, so the order never depends on anything but the beams.</summary>
    public int CompareTo(BeamCandidate other)
    {
        int c = other.CumulativeLogProb.CompareTo(CumulativeLogProb);
        if (c != 0)
            return c;
        c = ParentEntry.CompareTo(other.ParentEntry);
        return c != 0 ? c : Rank.CompareTo(other.Rank);
    }
}
