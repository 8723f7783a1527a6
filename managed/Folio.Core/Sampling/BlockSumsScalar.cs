namespace Folio.Core.Sampling;

/// <summary>
/// <see cref="BlockSums"/>' block sum written out addition by addition: the definition the vector path must
/// equal bit for bit, the path of a partial last block, and of a machine without 256-bit vectors.
/// </summary>
internal static class BlockSumsScalar
{
    /// <summary>The sum of one block (at most <see cref="BlockSums.BlockSize"/> values).</summary>
    public static double Block(ReadOnlySpan<float> block)
    {
        if (block.Length > BlockSums.BlockSize)
            throw new ArgumentException($"a block holds at most {BlockSums.BlockSize} values, not {block.Length}", nameof(block));
        Span<double> lane = stackalloc double[16];
        lane.Clear();
        for (int i = 0; i < block.Length; i++)
            lane[i & 15] += block[i];
        Span<double> t = stackalloc double[4];
        for (int k = 0; k < 4; k++)
            t[k] = (lane[k] + lane[4 + k]) + (lane[8 + k] + lane[12 + k]);
        return (t[0] + t[1]) + (t[2] + t[3]);
    }
}
