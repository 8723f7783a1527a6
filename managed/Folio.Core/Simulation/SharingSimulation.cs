using Folio.Core.KvCache;

namespace Folio.Core.Simulation;

/// <summary>
/// Blocks saved by sharing KV blocks between the sequences of one request (the paper's §4.4 and Fig. 15),
/// on the real <see cref="KvCacheManager"/> with <see cref="KvCacheManager.Fork"/> and copy-on-write.
/// Each request runs alone from prefill to its last token; every step of every request counts once, so the
/// totals equal a time average over the steps of a batch that runs these requests. All sequences of a
/// request generate the request's output length (we assume the paper's runs forced the dataset's lengths, as
/// vLLM's benchmarks do by ignoring end-of-sequence).
/// <para><b>Parallel sampling</b> (width n): the prompt is allocated once and forked n − 1 times; the samples
/// then append their own tokens, so a shared partial last prompt block is copied on the first write and only
/// the prompt's full blocks stay shared.</para>
/// <para><b>Beam search</b> (width k): every step keeps the k best of the k × k candidate continuations by
/// cumulative log-probability, on a random language model (see <c>Reselect</c>). A parent with c surviving
/// children continues in its own table once and is forked c − 1 times; a parent with none is freed (its beam
/// dropped). Beams therefore share the prompt and most of their generated history (they descend from a common
/// ancestor a few steps back) and diverge only near their ends, where copy-on-write splits the shared partial
/// blocks. The draws are seeded.</para>
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
        var state = new BeamState(width);
        List<BlockTable> beams = state.Beams;
        long steps = 0, sharedBlocks = 0, unsharedBlocks = 0;

        foreach (SimRequest request in requests)
        {
            beams.Clear();
            Array.Clear(state.Scores);
            beams.Add(kv.Allocate(tokenIds.AsSpan(0, request.InputTokens), default, request.InputTokens, default));
            if (mode == SharingMode.ParallelSampling)
                for (int i = 1; i < width; i++) beams.Add(kv.Fork(beams[0]));

            for (int step = 1; step <= request.OutputTokens; step++)
            {
                if (mode == SharingMode.BeamSearch) Reselect(kv, state, random);
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

    // One beam-search step on a random language model: every beam proposes its `width` best next tokens, whose
    // log-probabilities fall below the beam's score by cumulative Exp(1) gaps; the `width` best of all
    // width × width candidates survive. (Multiplying every gap by a constant changes no choice, so the model
    // has no free scale.) A parent with c surviving children continues in its own table and is forked c − 1
    // times; forks happen before dropped parents are freed, so a block a survivor shares is never released.
    private static void Reselect(KvCacheManager kv, BeamState state, Random random)
    {
        int width = state.Width;
        int beams = state.Beams.Count;
        // Each beam's candidates come in descending order, so the best `width` of all of them is a k-way merge
        // of the beams' lists; a beam's next candidate is drawn only once its previous one is taken.
        for (int p = 0; p < beams; p++) state.Heads[p] = state.Scores[p] - ExpGap(random);
        for (int i = 0; i < width; i++)
        {
            int best = 0;
            for (int p = 1; p < beams; p++)
                if (state.Heads[p] > state.Heads[best]) best = p;
            state.Candidates[i] = new SimulatedBeamChoice(state.Heads[best], best);
            state.Heads[best] -= ExpGap(random);
        }

        Array.Clear(state.Children);
        for (int i = 0; i < width; i++) state.Children[state.Candidates[i].Parent]++;
        state.NextBeams.Clear();
        int n = 0;
        for (int p = 0; p < beams; p++)
        {
            if (state.Children[p] == 0) continue;
            bool first = true;
            for (int i = 0; i < width; i++)
            {
                if (state.Candidates[i].Parent != p) continue;
                // The first child of p keeps p's table; the others get forks sharing all of p's blocks.
                state.NextBeams.Add(first ? state.Beams[p] : kv.Fork(state.Beams[p]));
                first = false;
                state.NextScores[n++] = state.Candidates[i].LogProb;
            }
        }
        for (int p = 0; p < beams; p++)
            if (state.Children[p] == 0) kv.Free(state.Beams[p]);
        state.Beams.Clear();
        state.Beams.AddRange(state.NextBeams);
        Array.Copy(state.NextScores, state.Scores, width);
    }

    // An Exp(1) draw; 1 − NextDouble() is in (0, 1], so the logarithm is finite.
    private static double ExpGap(Random random) => -Math.Log(1.0 - random.NextDouble());
}
