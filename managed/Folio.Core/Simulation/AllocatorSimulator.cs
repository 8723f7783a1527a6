namespace Folio.Core.Simulation;

/// <summary>Runs one policy of the allocator simulator on a workload (no model: the allocator alone).</summary>
public static class AllocatorSimulator
{
    public static PolicyResult Run(IReadOnlyList<SimRequest> requests, PolicySpec policy, SimulationOptions options) =>
        policy.IsContiguous
            ? OrcaSimulation.Run(requests, policy, options)
            : PagedSimulation.Run(requests, policy.BlockSizeTokens, options);
}
