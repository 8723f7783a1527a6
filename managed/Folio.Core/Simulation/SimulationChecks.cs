namespace Folio.Core.Simulation;

/// <summary>Preconditions every simulation shares; violating them is a caller bug (inputs are validated first).</summary>
internal static class SimulationChecks
{
    public static void ThrowIfInvalid(IReadOnlyList<SimRequest> requests, SimulationOptions options)
    {
        string? error = options.Validate();
        if (error is not null) throw new ArgumentException(error, nameof(options));
        for (int i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            if (r.InputTokens < 1 || r.OutputTokens < 1 || r.TotalTokens > options.MaxSequenceTokens)
                throw new ArgumentException($"request {i} ({r.InputTokens} in, {r.OutputTokens} out) is outside 1..{options.MaxSequenceTokens} tokens", nameof(requests));
        }
    }
}
