using Folio.Core.KvCache;

namespace Folio.Core.Simulation;

/// <summary>
/// Blocks saved by sharing KV blocks between the sequences of one request (the paper's §4.4 and Fig. 15),
/// on the real <see cref="KvCacheManager"/> with <see cref="KvCacheManager.Fork"/> and copy-on-write.
/// Each request runs alone from prefill to its last token; every step of every request counts once, so the
/// totals equal a time average over the steps of a batch that runs these requests. All sequences of a
/// request generate the request's output length (the paper's experiments fix lengths from the dataset).
/// <para><b>Parallel sampling</b> (width n): the prompt is allocated once and forked n − 1 times; the samples
/// then append their own tokens, so a shared partial last prompt block is copied on the first write and only
/// the prompt's full blocks stay shared.</para>
/// <para><b>Beam search</b> (width k): after the prompt, each step every one of the k new beams extends a
/// parent drawn uniformly from the current beams (a neutral model of top-k selection over k × vocabulary
/// candidates). A parent chosen c times continues in its own table once and is forked c − 1 times; a parent
/// chosen by none is freed (its beam dropped). Beams therefore share the prompt and most of their generated
/// history (k beams coalesce to one ancestor within about 2(k − 1) steps), and diverge only near their ends,
/// where copy-on-write splits the shared partial blocks. The draw is seeded.</para>
/// </summary>
public static class SharingSimulation
{
    /// <summary>Widest sampling or beam width accepted (far beyond the paper's 6).</summary>
    public const int MaxWidth = 64;

    public static SharingResult Run(IReadOnlyList<SimRequest> requests, SharingMode mode, int width, int blockSizeTokens, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, MaxWidth);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSizeTokens, 1);
        int longest = 0;
        foreach (SimRequest r in requests)
        {
            if (r.InputTokens < 1 || r.OutputTokens < 1)
                throw new ArgumentException($"request ({r.InputTokens} in, {r.OutputTokens} out) has an empty part", nameof(requests));
            longest = Math.Max(longest, r.TotalTokens);
        }

        int blocksPerSequence = (longest + blockSizeTokens - 1) / blockSizeTokens + 1;
        var kv = new KvCacheManager(new KvCacheOptions
        {
            // Every sequence unshared, plus one copy-on-write block each: the run never runs out of blocks.
            NumGpuBlocks = checked((width + 1) * blocksPerSequence),
            BlockSizeTokens = blockSizeTokens,
            EnablePrefixCaching = false,   // sharing here comes from Fork alone
        });
        var tokenIds = new int[longest];
        var copies = new List<BlockCopy>();
        var random = new Random(seed);
        var beams = new List<BlockTable>(width);
        var nextBeams = new List<BlockTable>(width);
        var children = new int[width];
        long steps = 0, sharedBlocks = 0, unsharedBlocks = 0;

        foreach (SimRequest request in requests)
        {
            beams.Clear();
            beams.Add(kv.Allocate(tokenIds.AsSpan(0, request.InputTokens), default, request.InputTokens, default));
            if (mode == SharingMode.ParallelSampling)
                for (int i = 1; i < width; i++) beams.Add(kv.Fork(beams[0]));

            for (int step = 1; step <= request.OutputTokens; step++)
            {
                if (mode == SharingMode.BeamSearch) Reselect(kv, beams, nextBeams, children, width, random);
                foreach (BlockTable beam in beams)
                {
                    if (!kv.CanAppend(beam, 1))
                        throw new InvalidOperationException("the sharing pool is sized for every sequence unshared");
                    kv.Append(beam, tokenIds.AsSpan(0, 1), copies);
                }
                copies.Clear();

                steps++;
                sharedBlocks += kv.GetStats().UsedBlocks;
                foreach (BlockTable beam in beams) unsharedBlocks += beam.NumBlocks;
            }
            foreach (BlockTable beam in beams) kv.Free(beam);
        }
        return new SharingResult(mode, width, blockSizeTokens, steps,
            steps == 0 ? 0 : (double)sharedBlocks / steps, steps == 0 ? 0 : (double)unsharedBlocks / steps);
    }

    // One beam-search selection: `width` children, each of a parent drawn uniformly; forks happen before any
    // dropped parent is freed, so a block shared by a survivor is never released early.
    private static void Reselect(KvCacheManager kv, List<BlockTable> beams, List<BlockTable> nextBeams, int[] children,
        int width, Random random)
    {
        Array.Clear(children);
        for (int i = 0; i < width; i++) children[random.Next(beams.Count)]++;
        nextBeams.Clear();
        for (int p = 0; p < beams.Count; p++)
        {
            if (children[p] == 0) continue;
            nextBeams.Add(beams[p]);
            for (int c = 1; c < children[p]; c++) nextBeams.Add(kv.Fork(beams[p]));
        }
        for (int p = 0; p < beams.Count; p++)
            if (children[p] == 0) kv.Free(beams[p]);
        beams.Clear();
        beams.AddRange(nextBeams);
    }
}
