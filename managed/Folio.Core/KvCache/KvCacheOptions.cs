namespace Folio.Core.KvCache;

/// <summary>Sizes and switches of one <see cref="KvCacheManager"/>; checked by <see cref="Validate"/>.</summary>
public sealed record KvCacheOptions
{
    /// <summary>GPU blocks, all allocated up front. Must be &gt; 0.</summary>
    public required int NumGpuBlocks { get; init; }

    /// <summary>Tokens per block. Must be &gt; 0.</summary>
    /// <summary>The block size every host starts from (vLLM's default on CUDA too).</summary>
    public const int DefaultBlockSizeTokens = 16;

    public required int BlockSizeTokens { get; init; }

    /// <summary>CPU swap space in blocks; 0 = no swapping.</summary>
    public int NumCpuBlocks { get; init; }

    /// <summary>Automatic prefix caching of full blocks.</summary>
    public bool EnablePrefixCaching { get; init; } = true;

    /// <summary>Hash of a full block; null = <see cref="DefaultBlockHasher"/>.</summary>
    public IBlockHasher? Hasher { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (NumGpuBlocks <= 0)
            throw new ArgumentException($"NumGpuBlocks must be > 0 (got {NumGpuBlocks}).", nameof(NumGpuBlocks));
        if (BlockSizeTokens <= 0)
            throw new ArgumentException($"BlockSizeTokens must be > 0 (got {BlockSizeTokens}).", nameof(BlockSizeTokens));
        if (NumCpuBlocks < 0)
            throw new ArgumentException($"NumCpuBlocks must be >= 0 (got {NumCpuBlocks}).", nameof(NumCpuBlocks));
        // Each pool records token ids in one flat int array indexed by slot, so slots must fit in an int.
        if ((long)NumGpuBlocks * BlockSizeTokens > Array.MaxLength)
            throw new ArgumentException(
                $"NumGpuBlocks × BlockSizeTokens = {(long)NumGpuBlocks * BlockSizeTokens} exceeds {Array.MaxLength} token slots.",
                nameof(NumGpuBlocks));
        if ((long)NumCpuBlocks * BlockSizeTokens > Array.MaxLength)
            throw new ArgumentException(
                $"NumCpuBlocks × BlockSizeTokens = {(long)NumCpuBlocks * BlockSizeTokens} exceeds {Array.MaxLength} token slots.",
                nameof(NumCpuBlocks));
    }
}
