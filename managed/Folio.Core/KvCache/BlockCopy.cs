namespace Folio.Core.KvCache;

/// <summary>A copy-on-write the backend must perform before the step: GPU block <c>Src</c> → GPU block <c>Dst</c>.</summary>
public readonly record struct BlockCopy(int SrcBlock, int DstBlock);
