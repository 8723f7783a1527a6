using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// The fields of a <see cref="Sequence"/> that a running decode step does not read: its text and logprobs outputs,
/// its admission state (reserved table, prefix probe) and how it ended. Kept apart so that the sequence object,
/// which the step reads twice for every running sequence (to plan its decode and to apply its sample), spans fewer
/// cache lines: at ~1,000 running sequences those objects no longer stay in the core's caches between steps.
/// </summary>
internal sealed class SequenceCold
{
    public SequenceText? Text;
    public List<TokenLogprob[]>? Logprobs;
    public BlockTable? ReservedTable;
    public PrefixProbe? Probe;
    public string? StopReason;
    public double BeamScore;
    public FinishReason FinishReason;
}
