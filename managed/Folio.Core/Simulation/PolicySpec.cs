namespace Folio.Core.Simulation;

/// <summary>A policy to simulate; <see cref="BlockSizeTokens"/> is meaningful for <see cref="PolicyKind.Paged"/> only.</summary>
public readonly record struct PolicySpec(PolicyKind Kind, int BlockSizeTokens = 0)
{
    public bool IsContiguous => Kind != PolicyKind.Paged;

    /// <summary>The CLI and JSON name: orca-max, orca-pow2, orca-oracle, paged.</summary>
    public string Name => NameOf(Kind);

    public static string NameOf(PolicyKind kind) => kind switch
    {
        PolicyKind.OrcaMax => "orca-max",
        PolicyKind.OrcaPow2 => "orca-pow2",
        PolicyKind.OrcaOracle => "orca-oracle",
        PolicyKind.Paged => "paged",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown policy"),
    };

    public static bool TryParseKind(string text, out PolicyKind kind)
    {
        foreach (PolicyKind candidate in Enum.GetValues<PolicyKind>())
        {
            if (NameOf(candidate) == text) { kind = candidate; return true; }
        }
        kind = default;
        return false;
    }

    /// <summary>
    /// Slots a contiguous policy reserves for <paramref name="request"/> when admitting it. Orca-Pow2 is capped
    /// at the maximum sequence length: no system reserves more than a sequence can ever use.
    /// </summary>
    public int ContiguousReservation(SimRequest request, int maxSequenceTokens) => Kind switch
    {
        PolicyKind.OrcaMax => maxSequenceTokens,
        PolicyKind.OrcaPow2 => Math.Min(maxSequenceTokens, request.InputTokens + (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)request.OutputTokens)),
        PolicyKind.OrcaOracle => request.TotalTokens,
        _ => throw new InvalidOperationException($"{Name} does not reserve contiguous memory"),
    };

    /// <summary>Null when this policy can run on <paramref name="options"/>, else one line naming the problem.</summary>
    public string? Validate(SimulationOptions options)
    {
        if (Kind != PolicyKind.Paged) return null;
        if (BlockSizeTokens <= 0) return $"--block-size must be a positive number of tokens, got {BlockSizeTokens}";
        long blocks = options.KvTokens / BlockSizeTokens;
        long needed = (options.MaxSequenceTokens + BlockSizeTokens - 1) / BlockSizeTokens;
        if (blocks < needed)
            return $"--block-size {BlockSizeTokens}: {options.KvTokens} KV slots make {blocks} blocks, fewer than the {needed} one longest request needs";
        return null;
    }
}
