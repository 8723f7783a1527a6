namespace Folio.Core.Compute;

/// <summary>
/// The paged K/V cache of every layer, owned by a backend. Per layer, K and V are each laid out as
/// [NumBlocks, BlockSizeTokens, NumKvHeads, HeadDim]: the token in slot s = block × BlockSizeTokens + offset
/// has its K (and V) head h at ((s × NumKvHeads) + h) × HeadDim.
/// </summary>
public abstract class DeviceKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim,
    DType dtype = DType.F32) : IDisposable
{
    /// <summary>Element type of the cached K and V.</summary>
    public DType DType { get; } = dtype;

    public int NumLayers { get; } = numLayers;
    public int NumBlocks { get; } = numBlocks;
    public int BlockSizeTokens { get; } = blockSizeTokens;
    public int NumKvHeads { get; } = numKvHeads;
    public int HeadDim { get; } = headDim;

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
