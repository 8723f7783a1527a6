namespace Folio.Core.Compute;

/// <summary>
/// Where a token's K (or V) heads sit inside one layer's paged cache. Both layouts share the slot mapping
/// (slot = block × BlockSizeTokens + offset); they differ in which elements are adjacent. The names and values
/// are those of <c>folio_cuda_kv_layout</c> in <c>native/include/folio_cuda.h</c>.
/// </summary>
public enum KvCacheLayout
{
    /// <summary>[NumBlocks, BlockSizeTokens, NumKvHeads, HeadDim]: a token's heads adjacent (vLLM's flash layout);
    /// head h of slot s starts at ((s × NumKvHeads) + h) × HeadDim.</summary>
    Nhd = 0,

    /// <summary>[NumBlocks, NumKvHeads, BlockSizeTokens, HeadDim]: a block's tokens of one head adjacent; head h of
    /// slot s (block b, offset o) starts at ((b × NumKvHeads + h) × BlockSizeTokens + o) × HeadDim.</summary>
    Hnd = 1,
}
