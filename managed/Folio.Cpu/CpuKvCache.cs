using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>K and V of every layer in managed arrays, [NumBlocks, BlockSizeTokens, NumKvHeads, HeadDim] each: fp32
/// (<see cref="Keys"/>, <see cref="Values"/>) or bf16 (<see cref="Keys16"/>, <see cref="Values16"/>: half the bytes
/// for attention to read; values rounded to nearest even when written, widened exactly when read).</summary>
public sealed class CpuKvCache : DeviceKvCache
{
    /// <summary>An F32 or BF16 cache (<see cref="CpuBackend.AllocateKvCache"/> refuses any other type first).</summary>
    internal CpuKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim, DType dtype = DType.F32)
        : base(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype)
    {
        long perLayer = (long)numBlocks * blockSizeTokens * numKvHeads * headDim;
        if (perLayer > Array.MaxLength)
            throw new ArgumentException($"a KV layer of {perLayer} values exceeds one managed array; use fewer blocks");
        bool half = dtype == DType.BF16;
        Keys = new float[half ? 0 : numLayers][];
        Values = new float[half ? 0 : numLayers][];
        Keys16 = new ushort[half ? numLayers : 0][];
        Values16 = new ushort[half ? numLayers : 0][];
        for (int l = 0; l < numLayers; l++)
        {
            if (half)
            {
                Keys16[l] = HugePages.NewArray<ushort>(perLayer);
                Values16[l] = HugePages.NewArray<ushort>(perLayer);
            }
            else
            {
                Keys[l] = HugePages.NewArray<float>(perLayer);
                Values[l] = HugePages.NewArray<float>(perLayer);
            }
        }
    }

    /// <summary>fp32 K per layer (empty for a bf16 cache).</summary>
    internal float[][] Keys { get; }
    internal float[][] Values { get; }

    /// <summary>bf16 K per layer (empty for an fp32 cache).</summary>
    internal ushort[][] Keys16 { get; }
    internal ushort[][] Values16 { get; }

    /// <summary>Values per block of one layer's K (or V).</summary>
    internal int BlockFloats => BlockSizeTokens * NumKvHeads * HeadDim;

    /// <summary>Values per token slot (all KV heads).</summary>
    internal int SlotFloats => NumKvHeads * HeadDim;
}
