using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Engine;

/// <summary>
/// A model stand-in that makes scheduling bugs visible. It simulates the KV cache per slot: computing position p
/// writes into p's slot a hash of the token ids at positions 0..p, chained from the value it reads at position
/// p - 1 through the block table — the way attention reads earlier K/V. The next token is a function of that
/// hash and the sequence's random stream (seed, index). So a request's tokens depend only on its history and
/// seed, never on batching, chunking or preemption, unless the plan is wrong: a bad slot mapping, a missing
/// copy-on-write copy or swap move, or a stale prefix hit changes the hash and so every later token. Incoherent
/// plans (positions not contiguous with what was computed, slots that disagree with the block table, token ids
/// that are not the sequence's) throw an <see cref="InvalidOperationException"/> at once.
/// </summary>
public sealed class FakeExecutor : IModelExecutor
{
    private const ulong EmptyHistory = 0x6A09E667F3BCC908UL;
    private readonly FakeExecutorOptions _o;
    // Per slot: the history hash and the position it was written for (-1 = never written). One array of pairs,
    // so a read or write touches one cache line.
    private readonly FakeKvSlot[] _gpu;
    private readonly FakeKvSlot[] _cpu;
    private readonly StepOutputs _outputs = new();
    private readonly List<FakeStepRecord> _records = [];
    private TokenLogprob[] _top = new TokenLogprob[SamplingParams.MaxLogprobs];
    private TokenLogprob[] _beamCandidates = new TokenLogprob[16];

    public FakeExecutor(FakeExecutorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options;
        int bs = options.BlockSizeTokens;
        _gpu = new FakeKvSlot[checked(options.NumGpuBlocks * bs)];
        _cpu = new FakeKvSlot[checked(options.NumCpuBlocks * bs)];
        Array.Fill(_gpu, new FakeKvSlot(0, -1));
        Array.Fill(_cpu, new FakeKvSlot(0, -1));
    }

    public IReadOnlyList<FakeStepRecord> Records => _records;
    public long NumSteps { get; private set; }
    public long NumTokensComputed { get; private set; }
    public long NumBlockCopies { get; private set; }
    public long NumBlocksSwappedOut { get; private set; }
    public long NumBlocksSwappedIn { get; private set; }

    public StepOutputs Execute(StepPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        NumSteps++;
        // Swap-outs, then swap-ins, then copies: a block freed by a swap-out may be reused in the same step.
        if (_o.SimulateKv)
            MoveBlocks(plan);
        NumBlocksSwappedOut += plan.NumSwapOut;
        NumBlocksSwappedIn += plan.NumSwapIn;
        NumBlockCopies += plan.NumBlockCopies;

        _outputs.Clear();
        if (!_o.SimulateKv)
            return ExecuteLight(plan);
        var entries = plan.Sequences;
        var ids = plan.TokenIds;
        var positions = plan.Positions;
        var slots = plan.SlotMapping;
        for (int k = 0; k < entries.Length; k++)
        {
            var e = entries[k];
            var seq = e.Sequence;
            var table = e.Table;
            if (table.Location != BlockLocation.Gpu)
                throw Incoherent(plan, seq, $"its block table is on {table.Location}.");
            int start = e.StartPosition;
            if (start + e.NumTokens != table.NumTokens)
                throw Incoherent(plan, seq, $"it computes positions [{start}, {start + e.NumTokens}) but its table has {table.NumTokens} slots.");
            NumTokensComputed += e.NumTokens;
            var tokens = seq.Tokens;
            ulong h = EmptyHistory;
            if (start > 0)
            {
                int prev = table.SlotOf(start - 1);
                var kv = _gpu[prev];
                if (kv.Position != start - 1)
                    throw Incoherent(plan, seq, $"position {start - 1} is not in the K/V: slot {prev} holds position {kv.Position}.");
                h = kv.History;
            }
            if (_o.VerifyHistory)
                VerifyHistory(plan, seq, table, start);
            for (int j = 0; j < e.NumTokens; j++)
            {
                int i = e.TokenOffset + j;
                int p = start + j;
                if (positions[i] != p)
                    throw Incoherent(plan, seq, $"token {j} has position {positions[i]}, expected {p}.");
                if (ids[i] != tokens[p])
                    throw Incoherent(plan, seq, $"position {p} has token {ids[i]}, the sequence has {tokens[p]}.");
                int slot = table.SlotOf(p);
                if (slots[i] != slot)
                    throw Incoherent(plan, seq, $"position {p} maps to slot {slots[i]}, the block table says {slot}.");
                h = Chain(h, ids[i], p);
                _gpu[slot] = new FakeKvSlot(h, p);
            }
            _outputs.BeginEntry();
            if (e.NumSamples > 0)
                Sample(new SamplingRow(seq), e.NumSamples, e.SuppressStopTokens, h);
            else if (e.NumBeamCandidates > 0)
                BeamCandidates(e.NumBeamCandidates, h);
        }
        if (_o.RecordSteps)
            Record(plan);
        return _outputs;
    }

    /// <summary>
    /// Without the K/V simulation: tokens from the plan's own arrays (last token id and position), so the
    /// executor stands for a GPU and touches no sequence, request or block table (except to honour min_tokens).
    /// </summary>
    private StepOutputs ExecuteLight(StepPlan plan)
    {
        var ids = plan.TokenIds;
        var positions = plan.Positions;
        var starts = plan.QueryStarts;
        var logitsRows = plan.LogitsSequenceRow;
        var numSamples = plan.NumSamples;
        var numCandidates = plan.NumBeamCandidates;
        var suppress = plan.SuppressStop;
        NumTokensComputed += plan.NumTokens;
        int l = 0;
        for (int k = 0; k < plan.NumSequences; k++)
        {
            _outputs.BeginEntry();
            if (l == logitsRows.Length || logitsRows[l] != k)
                continue;
            int last = starts[k + 1] - 1;
            ulong h = Mix(((ulong)(uint)ids[last] << 32) ^ (uint)positions[last]);
            if (numCandidates[l] > 0)
            {
                BeamCandidates(numCandidates[l], h);
            }
            else if (suppress[l] != 0)
            {
                Sample(plan.SamplingOf(l), numSamples[l], true, h);
            }
            else
            {
                for (int s = 0; s < numSamples[l]; s++)
                {
                    ulong r = Mix(h + (ulong)s);
                    _outputs.AddSample((int)(r % (ulong)_o.VocabSize), LogProbOf(r, 0));
                }
            }
            l++;
        }
        if (_o.RecordSteps)
            Record(plan);
        return _outputs;
    }

    private void MoveBlocks(StepPlan plan)
    {
        var swapOut = plan.SwapOutPairs;
        for (int i = 0; i < swapOut.Length; i += 2)
            CopyBlock(_gpu, swapOut[i], _cpu, swapOut[i + 1], "swap-out");
        var swapIn = plan.SwapInPairs;
        for (int i = 0; i < swapIn.Length; i += 2)
            CopyBlock(_cpu, swapIn[i], _gpu, swapIn[i + 1], "swap-in");
        var copies = plan.BlockCopyPairs;
        for (int i = 0; i < copies.Length; i += 2)
            CopyBlock(_gpu, copies[i], _gpu, copies[i + 1], "block copy");
    }

    /// <summary>The token that sample stream (seed, index) draws after a history whose K/V hash is <paramref name="history"/>.</summary>
    public static int NextToken(ulong history, long seed, int index, int vocabSize) => (int)(StreamValue(history, seed, index) % (ulong)vocabSize);

    private void Sample(SamplingRow row, int numSamples, bool suppressStop, ulong h)
    {
        long seed = row.Seed ?? _o.DefaultSeed;
        for (int s = 0; s < numSamples; s++)
        {
            // n samples of a completed prompt are sequences 0..n-1; later, each sequence draws from its own stream.
            int index = numSamples > 1 ? s : row.StreamIndex;
            ulong r = StreamValue(h, seed, index);
            int token = (int)(r % (ulong)_o.VocabSize);
            while (suppressStop && (token == _o.EosTokenId || row.IsStopTokenId(token)))
            {
                r = Mix(r);
                token = (int)(r % (ulong)_o.VocabSize);
            }
            float logProb = LogProbOf(r, 0);
            int numTop = row.Params.Logprobs ?? 0;
            _top[0] = new TokenLogprob(token, logProb);
            ulong t = r;
            for (int j = 1; j < numTop; j++)
            {
                t = Mix(t);
                _top[j] = new TokenLogprob((int)(t % (ulong)_o.VocabSize), LogProbOf(t, j));
            }
            _outputs.AddSample(token, logProb, _top.AsSpan(0, numTop));
        }
    }

    private void BeamCandidates(int numCandidates, ulong h)
    {
        int count = Math.Min(numCandidates, _o.VocabSize);
        if (_beamCandidates.Length < count)
            _beamCandidates = new TokenLogprob[count];
        var cands = _beamCandidates.AsSpan(0, count);
        BeamCandidatesOf(h, cands, _o.VocabSize);
        foreach (var c in cands)
            _outputs.AddSample(c.TokenId, c.LogProb);
    }

    /// <summary>
    /// The beam-search candidates the fake gives after a history whose K/V hash is <paramref name="history"/>:
    /// distinct tokens, most likely first (each log-probability below the previous one). The first k of a longer
    /// list are the list of k, so the fake defines one ranking per history. Public so that tests can run an
    /// independent beam search over the same scores.
    /// </summary>
    public static void BeamCandidatesOf(ulong history, Span<TokenLogprob> destination, int vocabSize)
    {
        if (destination.Length > vocabSize)
            throw new ArgumentException($"{destination.Length} distinct candidates asked of a vocabulary of {vocabSize}.", nameof(destination));
        ulong r = Mix(history ^ 0xBEA5E5EA5C4E5UL);
        float logProb = 0;
        int n = 0;
        while (n < destination.Length)
        {
            r = Mix(r);
            int token = (int)(r % (ulong)vocabSize);
            bool dup = false;
            for (int i = 0; i < n; i++)
                dup |= destination[i].TokenId == token;
            if (dup)
                continue;
            logProb -= 0.05f + (float)((r >> 40) % 1000) / 400f;
            destination[n++] = new TokenLogprob(token, logProb);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static float LogProbOf(ulong r, int rank) => -(0.01f + rank + (float)((r >> 40) % 1000) / 1000f);

    private static ulong StreamValue(ulong history, long seed, int index)
        => Mix(history ^ Mix((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)index + 1));

    /// <summary>The K/V hash of position <paramref name="position"/> holding <paramref name="token"/> after history <paramref name="h"/>.</summary>
    public static ulong Chain(ulong h, int token, int position)
        => Mix(h ^ ((ulong)(uint)token * 0xD6E8FEB86659FD93UL) ^ ((ulong)(uint)position << 40));

    /// <summary>The K/V hash after <paramref name="tokens"/> (what the simulated cache holds at the last position).</summary>
    public static ulong HistoryHash(ReadOnlySpan<int> tokens)
    {
        ulong h = EmptyHistory;
        for (int p = 0; p < tokens.Length; p++)
            h = Chain(h, tokens[p], p);
        return h;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Attention reads every earlier position: check each one's slot holds exactly its history.</summary>
    private void VerifyHistory(StepPlan plan, Sequence seq, BlockTable table, int start)
    {
        var tokens = seq.Tokens;
        ulong h = EmptyHistory;
        for (int p = 0; p < start; p++)
        {
            h = Chain(h, tokens[p], p);
            int slot = table.SlotOf(p);
            var kv = _gpu[slot];
            if (kv.Position != p || kv.History != h)
                throw Incoherent(plan, seq, $"the K/V at position {p} (slot {slot}) is not this sequence's (it holds position {kv.Position}, {(kv.History == h ? "same" : "different")} history).");
        }
    }

    private void CopyBlock(FakeKvSlot[] src, int srcBlock, FakeKvSlot[] dst, int dstBlock, string what)
    {
        int bs = _o.BlockSizeTokens;
        if ((uint)(srcBlock * bs) >= (uint)src.Length || (uint)(dstBlock * bs) >= (uint)dst.Length)
            throw new InvalidOperationException($"{what} {srcBlock} → {dstBlock} is outside the pools.");
        Array.Copy(src, srcBlock * bs, dst, dstBlock * bs, bs);
    }

    private void Record(StepPlan plan)
    {
        var entries = new FakeStepRecord.Entry[plan.NumSequences];
        var seqs = plan.Sequences;
        for (int k = 0; k < seqs.Length; k++)
        {
            var e = seqs[k];
            entries[k] = new FakeStepRecord.Entry(e.Sequence.Id, e.Sequence.Request.Id, e.StartPosition, e.NumTokens, e.NumSamples, e.NumBeamCandidates);
        }
        _records.Add(new FakeStepRecord(plan.StepIndex, entries, plan.NumBlockCopies, plan.NumSwapOut, plan.NumSwapIn));
    }

    private static InvalidOperationException Incoherent(StepPlan plan, Sequence seq, string what)
        => new($"step {plan.StepIndex}: incoherent plan for {seq}: {what}");
}
