using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>K and V of every layer in managed arrays, [NumBlocks, BlockSizeTokens, NumKvHeads, HeadDim] each.</summary>
public sealed class CpuKvCache : DeviceKvCache
{
    internal CpuKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim)
        : base(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim)
    {
        long perLayer = (long)numBlocks * blockSizeTokens * numKvHeads * headDim;
        if (perLayer > Array.MaxLength)
            throw new ArgumentException($"a KV layer of {perLayer} floats exceeds one managed array; use fewer blocks");
        Keys = new float[numLayers][];
        Values = new float[numLayers][];
        for (int l = 0; l < numLayers; l++)
        {
            Keys[l] = new float[perLayer];
            Values[l] = new float[perLayer];
        }
    }

    internal float[][] Keys { get; }
    internal float[][] Values { get; }

    /// <summary>Floats per block of one layer's K (or V).</summary>
    internal int BlockFloats => BlockSizeTokens * NumKvHeads * HeadDim;

    /// <summary>Floats per token slot (all KV heads).</summary>
    internal int SlotFloats => NumKvHeads * HeadDim;
}
