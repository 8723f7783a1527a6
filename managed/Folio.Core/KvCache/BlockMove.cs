namespace Folio.Core.KvCache;

/// <summary>A swap copy: GPU block → CPU block (swap out) or CPU block → GPU block (swap in).</summary>
public readonly record struct BlockMove(int SrcBlock, int DstBlock);
