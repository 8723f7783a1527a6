using System.Diagnostics;
using System.Runtime.InteropServices;
using Folio.Cpu;

namespace Folio.Benchmarks;

/// <summary>
/// <c>attn-kernel [LAYERS] [CONTEXT] [fp32|bf16] [ROUNDS]</c>: the one-pass decode attention kernel
/// (<see cref="OnlineSoftmaxAttention"/>) alone on one thread, in b8's shape (4 KV heads, 3 query heads each, head
/// size 64, blocks of 16 positions): 32 rows of CONTEXT positions each, all of a row's KV heads per call (as a
/// 32-sequence decode step runs it), over LAYERS separate caches in turn. One layer's cache (5 MB in bf16 at 160
/// positions) stays in L3 (the kernel's arithmetic); 12 or more walk past it (the arithmetic and the misses, as
/// a decode step, whose weights evict the cache between layers). Prints the fastest round's µs per row and ns per
/// block of 16 positions and KV head.
/// </summary>
internal static class AttentionKernelBenchmark
{
    private const int Rows = 32, KvHeads = 4, Group = 3, HeadDim = 64, BlockSize = 16;

    public static void Run(int layers, int context, bool bf16, int rounds)
    {
        int blocksPerRow = (context + BlockSize - 1) / BlockSize;
        int slotValues = KvHeads * HeadDim;
        long perLayer = (long)Rows * blocksPerRow * BlockSize * slotValues;
        var random = new Random(7);
        var keys = new float[layers][];
        var values = new float[layers][];
        var keys16 = new ushort[layers][];
        var values16 = new ushort[layers][];
        for (int l = 0; l < layers; l++)
        {
            if (bf16)
            {
                keys16[l] = Enumerable.Range(0, (int)perLayer).Select(_ => Bf16(random)).ToArray();
                values16[l] = Enumerable.Range(0, (int)perLayer).Select(_ => Bf16(random)).ToArray();
            }
            else
            {
                keys[l] = Enumerable.Range(0, (int)perLayer).Select(_ => random.NextSingle() * 2 - 1).ToArray();
                values[l] = Enumerable.Range(0, (int)perLayer).Select(_ => random.NextSingle() * 2 - 1).ToArray();
            }
        }
        int padded = blocksPerRow * BlockSize;
        // Row r's positions in its own blocks, as the block manager hands them to 32 sequences prefilled together.
        var slots = new int[Rows][];
        for (int r = 0; r < Rows; r++)
            slots[r] = Enumerable.Range(0, padded).Select(t => ((r * blocksPerRow + Math.Min(t, context - 1) / BlockSize) * BlockSize
                + Math.Min(t, context - 1) % BlockSize) * slotValues).ToArray();
        var q = Enumerable.Range(0, Rows * KvHeads * Group * HeadDim).Select(_ => random.NextSingle() * 4 - 2).ToArray();
        var output = new float[q.Length];
        int rowValues = KvHeads * Group * HeadDim;
        float scale = 1f / MathF.Sqrt(HeadDim);
        double best = double.MaxValue;
        for (int round = 0; round <= rounds; round++)
        {
            long t = Stopwatch.GetTimestamp();
            for (int l = 0; l < layers; l++)
                for (int r = 0; r < Rows; r++)
                {
                    var qr = q.AsSpan(r * rowValues, rowValues);
                    var or = output.AsSpan(r * rowValues, rowValues);
                    if (bf16)
                        OnlineSoftmaxAttention.Run<ushort, Bf16Elements>(ref MemoryMarshal.GetArrayDataReference(keys16[l]),
                            ref MemoryMarshal.GetArrayDataReference(values16[l]), slots[r], context, qr, or, KvHeads, Group, HeadDim, scale);
                    else
                        OnlineSoftmaxAttention.Run<float, F32Elements>(ref MemoryMarshal.GetArrayDataReference(keys[l]),
                            ref MemoryMarshal.GetArrayDataReference(values[l]), slots[r], context, qr, or, KvHeads, Group, HeadDim, scale);
                }
            double s = Stopwatch.GetElapsedTime(t).TotalSeconds;
            if (round > 0)
                best = Math.Min(best, s);
        }
        if (output.Any(float.IsNaN))
            throw new InvalidOperationException("attention produced NaN");
        double perRow = best / (layers * Rows) * 1e6;
        double perBlockHead = best / ((long)layers * Rows * blocksPerRow * KvHeads) * 1e9;
        Console.WriteLine($"attn-kernel {(bf16 ? "bf16" : "fp32")}, {layers} layer(s), context {context}: {perRow:F2} µs a row, " +
            $"{perBlockHead:F0} ns a block of 16 and KV head (fastest of {rounds}); load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    }

    private static ushort Bf16(Random random) => (ushort)(BitConverter.SingleToUInt32Bits(random.NextSingle() * 2 - 1) >> 16);
}
