namespace Folio.Core.Simulation;

/// <summary>The machine the allocator simulator models: how many KV token slots exist.</summary>
public sealed record SimulationOptions
{
    /// <summary>The paper's OPT-13B on one A100-40GB: 12 GB of KV at 800 KB a token ≈ 15,728 slots (§3).</summary>
    public const int DefaultKvTokens = 15728;
    /// <summary>OPT's maximum sequence length; what Orca-Max reserves for every request.</summary>
    public const int DefaultMaxSequenceTokens = 2048;
    /// <summary>The paged policy preallocates every block's bookkeeping; 4 Mi slots keeps that under ~100 MB.</summary>
    public const int MaxKvTokens = 1 << 22;

    public int KvTokens { get; init; } = DefaultKvTokens;
    public int MaxSequenceTokens { get; init; } = DefaultMaxSequenceTokens;
    /// <summary>How the Orca policies place their contiguous reservations.</summary>
    public ContiguousAllocatorKind ContiguousAllocator { get; init; } = ContiguousAllocatorKind.Buddy;

    /// <summary>Null when valid, else one line naming the bad value (bad input is expected, so a value).</summary>
    public string? Validate()
    {
        if (MaxSequenceTokens < 2) return $"the maximum sequence length must be at least 2 tokens, got {MaxSequenceTokens}";
        if (KvTokens < MaxSequenceTokens)
            return $"--kv-tokens must be at least the maximum sequence length ({MaxSequenceTokens}) so every request fits, got {KvTokens}";
        if (KvTokens > MaxKvTokens) return $"--kv-tokens must be at most {MaxKvTokens}, got {KvTokens}";
        return null;
    }
}
