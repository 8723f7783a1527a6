namespace Folio.Core.Simulation;

/// <summary>
/// One request of a simulated workload: its prompt length and the number of tokens it will generate.
/// The allocator simulator knows the output length in advance (the "oracle" view); policies that must
/// not know it (orca-max, paged) simply do not read it when deciding how much to allocate.
/// </summary>
/// <param name="InputTokens">Prompt tokens, at least 1.</param>
/// <param name="OutputTokens">Generated tokens, at least 1.</param>
/// <param name="ArrivalS">Arrival time in seconds from a trace, when it gave one; the saturated simulation
/// only uses it to order the queue.</param>
public readonly record struct SimRequest(int InputTokens, int OutputTokens, double? ArrivalS = null)
{
    /// <summary>Slots the request's KV occupies when it has produced its last token.</summary>
    public int TotalTokens => InputTokens + OutputTokens;
}
