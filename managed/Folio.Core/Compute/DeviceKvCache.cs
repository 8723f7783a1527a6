namespace Folio.Core.Compute;

/// <summary>
/// The paged K/V cache of every layer, owned by a backend: per layer one K and one V tensor of NumBlocks blocks of
/// BlockSizeTokens slots, in <see cref="Layout"/> (the CPU backend: <see cref="KvCacheLayout.Nhd"/>, so the token
/// in slot s = block × BlockSizeTokens + offset has its K (and V) head h at ((s × NumKvHeads) + h) × HeadDim),
/// with elements of <see cref="DType"/>. Quantized formats are appended to <see cref="Compute.DType"/> (a cache of
/// such a type also carries its scales; the slot mapping and block tables stay the same).
/// </summary>
public abstract class DeviceKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim,
    DType dtype = DType.F32, KvCacheLayout layout = KvCacheLayout.Nhd) : IDisposable
{
    /// <summary>Element type of the cached K and V.</summary>
    public DType DType { get; } = dtype;

    /// <summary>Order of the elements inside a block.</summary>
    public KvCacheLayout Layout { get; } = layout;

    public int NumLayers { get; } = numLayers;
    public int NumBlocks { get; } = numBlocks;
    public int BlockSizeTokens { get; } = blockSizeTokens;
    public int NumKvHeads { get; } = numKvHeads;
    public int HeadDim { get; } = headDim;

    /// <summary>Bytes of one block of one layer's K (or V): what a block copy or swap moves per layer and side
    /// (<c>block_bytes</c> of <c>folio_block_copy</c>).</summary>
    public long BlockBytes => (long)BlockSizeTokens * NumKvHeads * HeadDim * DTypes.SizeOf(DType);

    /// <summary>Throws an <see cref="ArgumentException"/> unless a block of <paramref name="other"/> has this cache's
    /// exact format (layers, block size, heads, head size, dtype, layout), so blocks can move between the two
    /// (swap: the device cache and the host cache). The block counts may differ.</summary>
    public void RequireSameBlockFormat(DeviceKvCache other, string operation)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.DType != DType || other.Layout != Layout)
            throw new ArgumentException($"{operation}: a {DType} {Layout} cache and a {other.DType} {other.Layout} cache " +
                "hold blocks in different formats", nameof(other));
        if (other.NumLayers != NumLayers || other.BlockSizeTokens != BlockSizeTokens || other.NumKvHeads != NumKvHeads ||
            other.HeadDim != HeadDim)
            throw new ArgumentException($"{operation}: cache geometries differ ({Geometry} vs {other.Geometry})", nameof(other));
    }

    /// <summary>Throws an <see cref="ArgumentException"/> unless the cache holds heads of <paramref name="shape"/>.</summary>
    public void RequireHeads(AttentionShape shape, string operation)
    {
        if (shape.NumKvHeads != NumKvHeads || shape.HeadDim != HeadDim)
            throw new ArgumentException($"{operation}: the cache holds {NumKvHeads} KV heads of {HeadDim}, the layer " +
                $"has {shape.NumKvHeads} of {shape.HeadDim}");
    }

    private string Geometry => $"{NumLayers} layers × {BlockSizeTokens}-token blocks × {NumKvHeads} heads × {HeadDim}";

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
