using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Core.Sampling;

/// <summary>
/// The mass a draw walks, summed in fixed blocks so that neither the sum nor the draw is a chain as long as the
/// vocabulary. Block b holds values [64b, 64b + 64) (the last one fewer). Its sum, in doubles, is defined as
/// sixteen lanes — lane j adds the block's values j, j + 16, j + 32, j + 48 in that order, a missing value adding
/// nothing — reduced as t[k] = (lane[k] + lane[4 + k]) + (lane[8 + k] + lane[12 + k]), then (t0 + t1) + (t2 + t3).
/// The total is the block sums added in block order. The same bits on every machine and for every vector width:
/// the vector path performs exactly these IEEE additions (<see cref="BlockSumsScalar"/> writes them out).
/// The draw for a target (u × total) is the first block whose running block total exceeds it, then inside that
/// block the first nonzero value whose running sum (the blocks before, then the block's values in index order)
/// exceeds it; where rounding leaves the walk short, the block's last nonzero value; where no block exceeds it
/// (u × total rounded up to the total), the last nonzero value of the row. A zero value is never drawn.
/// </summary>
internal static class BlockSums
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 64;

    /// <summary>Blocks covering <paramref name="length"/> values.</summary>
    public static int BlockCount(int length) => (length + BlockSize - 1) / BlockSize;

    /// <summary>Writes each block's sum of <paramref name="values"/> (non-negative) to <paramref name="sums"/>
    /// (<see cref="BlockCount"/> entries) and returns their total.</summary>
    public static double Compute(ReadOnlySpan<float> values, Span<double> sums)
    {
        int blocks = BlockCount(values.Length);
        ComputeBlocks(values, sums, 0, blocks);
        return Total(sums[..blocks]);
    }

    /// <summary>Writes the sums of blocks [<paramref name="firstBlock"/>, <paramref name="endBlock"/>) of
    /// <paramref name="values"/> (the whole row) to the same entries of <paramref name="sums"/>: the bits
    /// <see cref="Compute"/> writes there, so disjoint ranges may be summed on different threads.</summary>
    public static void ComputeBlocks(ReadOnlySpan<float> values, Span<double> sums, int firstBlock, int endBlock)
    {
        int blocks = BlockCount(values.Length);
        if (sums.Length < blocks)
            throw new ArgumentException($"{sums.Length} block sums for {blocks} blocks", nameof(sums));
        if ((uint)firstBlock > (uint)endBlock || endBlock > blocks)
            throw new ArgumentOutOfRangeException(nameof(endBlock), $"blocks [{firstBlock}, {endBlock}) outside [0, {blocks})");
        int full = Math.Min(endBlock, values.Length / BlockSize);
        int b = firstBlock;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; b < full; b++)
                sums[b] = BlockSumVector(values.Slice(b * BlockSize, BlockSize));
        }
        for (; b < endBlock; b++)
            sums[b] = BlockSumsScalar.Block(values[(b * BlockSize)..Math.Min(values.Length, (b + 1) * BlockSize)]);
    }

    /// <summary>The block sums added in block order.</summary>
    public static double Total(ReadOnlySpan<double> sums)
    {
        double total = 0;
        for (int b = 0; b < sums.Length; b++)
            total += sums[b];
        return total;
    }

    /// <summary>The index the draw <paramref name="target"/> falls on (see the type's summary).</summary>
    public static int Draw(ReadOnlySpan<float> values, ReadOnlySpan<double> sums, double target)
    {
        int blocks = BlockCount(values.Length);
        double running = 0;
        int b = 0;
        for (; b < blocks; b++)
        {
            double next = running + sums[b];
            if (next > target)
                break;
            running = next;
        }
        if (b == blocks)
        {
            for (int i = values.Length - 1; i >= 0; i--)
                if (values[i] != 0)
                    return i;
            return -1;
        }
        int last = -1;
        for (int i = b * BlockSize, end = Math.Min(values.Length, i + BlockSize); i < end; i++)
        {
            float e = values[i];
            if (e == 0)
                continue;
            last = i;
            running += e;
            if (running > target)
                return i;
        }
        return last;
    }

    /// <summary>One full block: four accumulators of four lanes (lanes 0–3, 4–7, 8–11, 12–15), four values a lane.</summary>
    private static double BlockSumVector(ReadOnlySpan<float> block)
    {
        ref float start = ref MemoryMarshal.GetReference(block);
        Vector256<double> a0 = Vector256<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < BlockSize; c += 16)
        {
            var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref start, (nuint)c));
            var (lo2, hi2) = Vector256.Widen(Vector256.LoadUnsafe(ref start, (nuint)(c + 8)));
            a0 += lo;
            a1 += hi;
            a2 += lo2;
            a3 += hi2;
        }
        var t = (a0 + a1) + (a2 + a3);
        return (t.GetElement(0) + t.GetElement(1)) + (t.GetElement(2) + t.GetElement(3));
    }
}
