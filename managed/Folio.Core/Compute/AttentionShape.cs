namespace Folio.Core.Compute;

/// <summary>
/// Head layout of one attention layer. The fused projection output <c>qkv</c> has, per row,
/// [Q: NumHeads × HeadDim | K: NumKvHeads × HeadDim | V: NumKvHeads × HeadDim]. Query head h reads KV head
/// h / (NumHeads / NumKvHeads) (grouped-query attention).
/// </summary>
public readonly record struct AttentionShape(int NumHeads, int NumKvHeads, int HeadDim)
{
    public int QueryCols => NumHeads * HeadDim;
    public int KvCols => NumKvHeads * HeadDim;
    public int QkvCols => QueryCols + 2 * KvCols;
    public int KeyOffset => QueryCols;
    public int ValueOffset => QueryCols + KvCols;
}
