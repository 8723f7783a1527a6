namespace Folio.Core.Engine;

/// <summary>Shape of a <see cref="FakeExecutor"/>: it must match the engine's KV pools.</summary>
public sealed record FakeExecutorOptions
{
    public required int NumGpuBlocks { get; init; }
    public int NumCpuBlocks { get; init; }
    public required int BlockSizeTokens { get; init; }
    public int VocabSize { get; init; } = 32000;
    /// <summary>The end-of-sequence id (must equal the scheduler's); -1 = none.</summary>
    public int EosTokenId { get; init; } = -1;
    /// <summary>Seed of requests that set none.</summary>
    public long DefaultSeed { get; init; }
    /// <summary>Keep a <see cref="FakeStepRecord"/> per step (allocates; for tests).</summary>
    public bool RecordSteps { get; init; }
    /// <summary>Also recompute each sequence's history hash from its tokens and compare it with what the simulated
    /// K/V holds (O(context) per sequence per step; for tests).</summary>
    public bool VerifyHistory { get; init; }

    public void Validate()
    {
        if (NumGpuBlocks < 1) throw new ArgumentException($"NumGpuBlocks must be at least 1, got {NumGpuBlocks}.", nameof(NumGpuBlocks));
        if (NumCpuBlocks < 0) throw new ArgumentException($"NumCpuBlocks must be >= 0, got {NumCpuBlocks}.", nameof(NumCpuBlocks));
        if (BlockSizeTokens < 1) throw new ArgumentException($"BlockSizeTokens must be at least 1, got {BlockSizeTokens}.", nameof(BlockSizeTokens));
        if (VocabSize < 2) throw new ArgumentException($"VocabSize must be at least 2, got {VocabSize}.", nameof(VocabSize));
        if (EosTokenId >= VocabSize) throw new ArgumentException($"EosTokenId ({EosTokenId}) must be below VocabSize ({VocabSize}).", nameof(EosTokenId));
    }
}
