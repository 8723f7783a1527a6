using Folio.Core.Compute;
using Folio.Cuda.Native;

namespace Folio.Cuda.Backend;

/// <summary>
/// The paged K/V cache of every layer: one allocation per layer and side, on the device (the pool the kernels
/// read) or in pinned host memory (the swap pool, which the block-swap kernel reaches through unified addressing).
/// <see cref="PointerTable"/> holds every cache's address (K of layer 0, V of layer 0, K of layer 1, …) on the device,
/// for the block copy and swap kernels, which move a block of every layer in one launch.
/// </summary>
internal sealed unsafe class CudaKvCache : DeviceKvCache
{
    private readonly NativeBuffer[] _keys;
    private readonly NativeBuffer[] _values;

    public CudaKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim, DType dtype,
        KvCacheLayout layout, bool host, CudaStream stream)
        : base(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype, layout)
    {
        IsHost = host;
        _keys = new NativeBuffer[numLayers];
        _values = new NativeBuffer[numLayers];
        long bytes = checked(BlockBytes * numBlocks);
        try
        {
            for (int l = 0; l < numLayers; l++)
            {
                _keys[l] = Allocate(bytes, host, stream);
                _values[l] = Allocate(bytes, host, stream);
            }
            var pointers = new ulong[2 * numLayers];
            for (int l = 0; l < numLayers; l++)
            {
                pointers[2 * l] = (ulong)_keys[l].Pointer;
                pointers[2 * l + 1] = (ulong)_values[l].Pointer;
            }
            PointerTable = DeviceBuffer.Allocate(pointers.Length * sizeof(ulong));
            PointerTable.Upload<ulong>(pointers, stream);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Whether the blocks live in pinned host memory (the swap pool).</summary>
    public bool IsHost { get; }

    /// <summary>uint64 addresses of every cache, K and V of layer 0 first (<c>cache_ptrs</c> of the block moves).</summary>
    public DeviceBuffer PointerTable { get; } = null!;

    public int NumCaches => 2 * NumLayers;

    /// <summary>The view of one layer that the attention and KV-write launchers take.</summary>
    public FolioCudaPagedKv View(int layer) => new()
    {
        KCache = (void*)_keys[layer].Pointer,
        VCache = (void*)_values[layer].Pointer,
        NumBlocks = NumBlocks,
        BlockSize = BlockSizeTokens,
        NumKvHeads = NumKvHeads,
        HeadDim = HeadDim,
        Layout = Layout == KvCacheLayout.Hnd ? (int)FolioCudaKvLayout.Hnd : (int)FolioCudaKvLayout.Nhd,
        Dtype = (int)CudaDtypes.Of(DType),
    };

    private static NativeBuffer Allocate(long bytes, bool host, CudaStream stream)
    {
        if (host)
        {
            var pinned = PinnedHostBuffer.Allocate(bytes);
            pinned.AsSpan<byte>().Clear();
            return pinned;
        }
        var device = DeviceBuffer.Allocate(bytes);
        device.Fill(0, stream);
        return device;
    }

    public override void Dispose()
    {
        foreach (var b in _keys)
            b?.Dispose();
        foreach (var b in _values)
            b?.Dispose();
        PointerTable?.Dispose();
        base.Dispose();
    }
}
