using Folio.Core.Compute;
using Folio.Core.Models;

namespace Folio.Cpu;

/// <summary>
/// The CPU backend's step: the plan's own host arrays (nothing to upload), plus the row → sequence map that every
/// layer's attention needs, built once per step in an array kept for the largest step.
/// </summary>
internal sealed class CpuStepContext : StepContext
{
    private int[] _sequenceOfRow = new int[256];

    /// <summary>Sequence (index in the batch) of each token row (the first NumTokens entries).</summary>
    public int[] SequenceOfRow => _sequenceOfRow;

    public void Begin(ModelInput input, DeviceKvCache cache)
    {
        Bind(input, cache);
        if (_sequenceOfRow.Length < NumTokens)
            _sequenceOfRow = new int[Math.Max(NumTokens, 2 * _sequenceOfRow.Length)];
        var a = Attention;
        for (int s = 0; s < NumSequences; s++)
            _sequenceOfRow.AsSpan(a.QueryStarts[s], a.QueryStarts[s + 1] - a.QueryStarts[s]).Fill(s);
    }
}
