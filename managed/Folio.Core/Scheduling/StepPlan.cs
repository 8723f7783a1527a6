using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// One step as data: everything an executor, a backend or the C ABI's level 2 needs, in flat arrays that the
/// scheduler fills once per step and reuses (no allocation in the steady state). Valid until the next
/// <see cref="Scheduler.Schedule"/>. Order of work before the forward pass: swap-outs, then swap-ins, then block
/// copies (copy-on-write), then the K/V writes of the scheduled tokens.
/// </summary>
/// <remarks>
/// Layout (s = sequence row, t = token, l = logits row):
/// <list type="bullet">
/// <item>per token [NumTokens]: <see cref="TokenIds"/>, <see cref="Positions"/>, <see cref="SlotMapping"/> (int64:
///   block × block size + offset, what the kernels take);</item>
/// <item>per sequence [NumSequences]: <see cref="QueryStarts"/> [NumSequences + 1] (row s computes tokens
///   QueryStarts[s] .. QueryStarts[s+1]), <see cref="ContextLengths"/> (tokens in the cache after this step),
///   <see cref="BlockTables"/> [NumSequences × BlockTableStride] (physical ids, padded with −1),
///   <see cref="SequenceIds"/>, <see cref="RequestIds"/>;</item>
/// <item>per logits row [NumLogitsRows] (a sequence whose last computed position is sampled):
///   <see cref="LogitsTokenIndex"/>, <see cref="LogitsSequenceRow"/>, <see cref="NumSamples"/> (1, or n when an
///   n-sample prompt completes), <see cref="NumBeamCandidates"/>, <see cref="SuppressStop"/> (1 while min_tokens is
///   unmet), and through <see cref="SamplingOf"/> the request's parameters, seed stream and token history;</item>
/// <item>block moves as (src, dst) pairs: <see cref="BlockCopyPairs"/>, <see cref="SwapInPairs"/>,
///   <see cref="SwapOutPairs"/>.</item>
/// </list>
/// </remarks>
public sealed class StepPlan
{
    private ScheduledSequence[] _sequences = new ScheduledSequence[64];
    private int[] _tokenIds = new int[256];
    private int[] _positions = new int[256];
    private long[] _slots = new long[256];
    private int[] _queryStarts = new int[65];
    private int[] _contextLengths = new int[64];
    private long[] _sequenceIds = new long[64];
    private long[] _requestIds = new long[64];
    private int[] _blockTables = new int[1024];
    private int[] _logitsTokenIndex = new int[64];
    private int[] _logitsSequenceRow = new int[64];
    private int[] _numSamples = new int[64];
    private int[] _numBeamCandidates = new int[64];
    private int[] _suppressStop = new int[64];
    private int[] _copyPairs = new int[32];
    private int[] _swapInPairs = new int[32];
    private int[] _swapOutPairs = new int[32];
    private bool _tablesBuilt;

    /// <summary>Step counter of the scheduler (1 for the first plan).</summary>
    public long StepIndex { get; private set; }

    public int NumSequences { get; private set; }
    public int NumTokens { get; private set; }
    public int NumPrefillTokens { get; private set; }
    public int NumLogitsRows { get; private set; }

    /// <summary>Sum of <see cref="NumSamples"/>: the tokens the executor samples this step.</summary>
    public int NumSampled { get; private set; }

    /// <summary>Width of a row of <see cref="BlockTables"/>: the most blocks any sequence of this step holds.</summary>
    public int BlockTableStride { get; private set; }

    /// <summary>The scheduler's view of each row (its sequence and request), for postprocessing and checkers.</summary>
    public ReadOnlySpan<ScheduledSequence> Sequences => _sequences.AsSpan(0, NumSequences);

    public ReadOnlySpan<int> TokenIds => _tokenIds.AsSpan(0, NumTokens);
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, NumTokens);
    public ReadOnlySpan<long> SlotMapping => _slots.AsSpan(0, NumTokens);

    public ReadOnlySpan<int> QueryStarts => _queryStarts.AsSpan(0, NumSequences + 1);
    public ReadOnlySpan<int> ContextLengths => _contextLengths.AsSpan(0, NumSequences);
    public ReadOnlySpan<long> SequenceIds => _sequenceIds.AsSpan(0, NumSequences);
    public ReadOnlySpan<long> RequestIds => _requestIds.AsSpan(0, NumSequences);
    /// <summary>Materialised on first read in a step (a copy of every table: executors that never read them,
    /// like the scheduler benchmark's fake, do not pay for it).</summary>
    public ReadOnlySpan<int> BlockTables
    {
        get
        {
            EnsureBlockTables();
            return _blockTables.AsSpan(0, NumSequences * BlockTableStride);
        }
    }

    public ReadOnlySpan<int> LogitsTokenIndex => _logitsTokenIndex.AsSpan(0, NumLogitsRows);
    public ReadOnlySpan<int> LogitsSequenceRow => _logitsSequenceRow.AsSpan(0, NumLogitsRows);
    public ReadOnlySpan<int> NumSamples => _numSamples.AsSpan(0, NumLogitsRows);
    public ReadOnlySpan<int> NumBeamCandidates => _numBeamCandidates.AsSpan(0, NumLogitsRows);
    public ReadOnlySpan<int> SuppressStop => _suppressStop.AsSpan(0, NumLogitsRows);

    /// <summary>Copy-on-write copies (GPU → GPU) as (src, dst) pairs, before the forward pass.</summary>
    public ReadOnlySpan<int> BlockCopyPairs => _copyPairs.AsSpan(0, 2 * Copies.Count);

    /// <summary>CPU → GPU block moves (resumed groups) as (CPU src, GPU dst) pairs.</summary>
    public ReadOnlySpan<int> SwapInPairs => _swapInPairs.AsSpan(0, 2 * SwapInMoves.Count);

    /// <summary>GPU → CPU block moves (preempted groups) as (GPU src, CPU dst) pairs.</summary>
    public ReadOnlySpan<int> SwapOutPairs => _swapOutPairs.AsSpan(0, 2 * SwapOutMoves.Count);

    public int NumBlockCopies => Copies.Count;
    public int NumSwapIn => SwapInMoves.Count;
    public int NumSwapOut => SwapOutMoves.Count;

    /// <summary>Requests preempted while planning this step (by recompute or swap).</summary>
    public int NumPreempted { get; internal set; }

    public bool IsEmpty => NumSequences == 0 && Copies.Count == 0 && SwapOutMoves.Count == 0 && SwapInMoves.Count == 0;

    /// <summary>The sequence of row <paramref name="row"/> (valid until the next schedule).</summary>
    internal Sequence SequenceAt(int row)
    {
        if ((uint)row >= (uint)NumSequences)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"the step has {NumSequences} rows.");
        return _sequences[row].Sequence;
    }

    /// <summary>What sampling logits row <paramref name="row"/> needs: parameters, random stream, token history.</summary>
    public SamplingRow SamplingOf(int row)
    {
        if ((uint)row >= (uint)NumLogitsRows)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"the step has {NumLogitsRows} logits rows.");
        return new SamplingRow(_sequences[_logitsSequenceRow[row]].Sequence);
    }

    /// <summary>Points <paramref name="input"/> at this plan's arrays (no copy): valid until the next schedule.</summary>
    internal void Describe(Models.ModelInput input)
    {
        input.TokenIds = _tokenIds;
        input.Positions = _positions;
        input.SlotMapping = _slots;
        input.LogitRows = _logitsTokenIndex;
        input.NumRows = NumTokens;
        input.NumLogitRows = NumLogitsRows;
        var a = input.Attention;
        a.QueryStarts = _queryStarts;
        a.ContextLengths = _contextLengths;
        EnsureBlockTables();
        a.BlockTables = _blockTables;
        a.BlockTableStride = BlockTableStride;
        a.NumSequences = NumSequences;
    }

    // The KV cache manager appends to these while the scheduler plans; Seal flattens them into the pair arrays.
    internal List<BlockCopy> Copies { get; } = [];
    internal List<BlockMove> SwapOutMoves { get; } = [];
    internal List<BlockMove> SwapInMoves { get; } = [];

    internal void Reset(long stepIndex)
    {
        StepIndex = stepIndex;
        NumSequences = 0;
        NumTokens = 0;
        NumPrefillTokens = 0;
        NumLogitsRows = 0;
        NumSampled = 0;
        NumPreempted = 0;
        BlockTableStride = 0;
        Copies.Clear();
        SwapOutMoves.Clear();
        SwapInMoves.Clear();
    }

    /// <summary>
    /// Schedules the next <paramref name="chunk"/> tokens of <paramref name="seq"/> (its table already covers them)
    /// and counts them computed. A chunk that reaches the end of the sequence's tokens gets a logits row: n samples
    /// when it completes a prompt not yet forked, 2 × beam width candidates for beam search, else one sample; stop
    /// tokens suppressed while the sequence is short of min_tokens.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void AddChunk(Sequence seq, int chunk)
    {
        int start = seq.NumComputedTokens;
        seq.NumComputedTokens = start + chunk;
        int samples = 0, candidates = 0;
        bool suppress = false;
        if (seq.NumComputedTokens == seq.NumTokens)
            suppress = LogitsOf(seq, out samples, out candidates);
        Add(seq, start, chunk, samples, candidates, suppress);
    }

    /// <summary>What a chunk that reaches the end of the sequence's tokens samples; returns whether stop tokens
    /// are suppressed (min_tokens not reached).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool LogitsOf(Sequence seq, out int samples, out int candidates)
    {
        // The token sampled now is generated token NumGenerated + 1.
        bool suppress = seq.NumGenerated + 1 < seq.Stops.MinTokens;
        samples = 1;
        candidates = 0;
        if (seq.Alone)
            return suppress;   // without reading the group (see Sequence.Alone)
        samples = 0;
        var g = seq.Group;
        if (g.UseBeamSearch)
            candidates = 2 * g.BeamWidth;
        else
            samples = g.N > 1 && !g.Forked ? g.N : 1;
        return suppress;
    }

    /// <summary>
    /// <see cref="AddChunk"/> for the commonest row: one token, the sequence's last, whose slot the KV manager
    /// has just returned (<see cref="KvCache.KvCacheManager.TryAppendDecode"/>): no slot lookup through the table,
    /// no multi-token path. <paramref name="numBlocks"/> is the sequence's table length after the append.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void AddDecode(Sequence seq, int token, long slot, int numBlocks)
    {
        int position = seq.NumComputedTokens;
        seq.NumComputedTokens = position + 1;
        int row = NumSequences;
        if (row == _sequences.Length)
            GrowRows();
        int offset = NumTokens;
        if (offset == _tokenIds.Length)
            GrowTokens(offset + 1);
        _tokenIds[offset] = token;
        _positions[offset] = position;
        _slots[offset] = slot;
        bool suppress = LogitsOf(seq, out int samples, out int candidates);
        _sequences[row] = new ScheduledSequence(seq, offset, 1, position, samples, candidates, suppress);
        _queryStarts[row] = offset;
        _contextLengths[row] = position + 1;
        _sequenceIds[row] = seq.Id;
        _requestIds[row] = seq.RequestId;
        if (numBlocks > BlockTableStride)
            BlockTableStride = numBlocks;
        AddLogitsRow(row, offset, samples, candidates, suppress);
        NumSequences = row + 1;
        NumTokens = offset + 1;
        if (position < seq.PromptLength)
            NumPrefillTokens++;
    }

    /// <summary>Adds a sequence whose table already covers the positions; fills ids, positions and slots.</summary>
    internal void Add(Sequence seq, int startPosition, int numTokens, int numSamples, int numBeamCandidates, bool suppressStopTokens)
    {
        int row = NumSequences;
        if (row == _sequences.Length)
            GrowRows();
        int need = NumTokens + numTokens;
        if (need > _tokenIds.Length)
            GrowTokens(need);
        var table = seq.Table!;
        var blocks = table.Blocks;
        var tokens = seq.Tokens;
        int offset = NumTokens;
        if (numTokens == 1)
        {
            _tokenIds[offset] = tokens[startPosition];
            _positions[offset] = startPosition;
            _slots[offset] = table.SlotOf(startPosition);
        }
        else
        {
            // One division per sequence, not per token: walk the blocks from the first position's.
            int bs = table.BlockSizeTokens;
            (int blockIndex, int inBlock) = Math.DivRem(startPosition, bs);
            long blockBase = (long)blocks[blockIndex] * bs;
            for (int i = 0; i < numTokens; i++)
            {
                if (inBlock == bs)
                {
                    blockBase = (long)blocks[++blockIndex] * bs;
                    inBlock = 0;
                }
                _tokenIds[offset + i] = tokens[startPosition + i];
                _positions[offset + i] = startPosition + i;
                _slots[offset + i] = blockBase + inBlock++;
            }
        }
        _sequences[row] = new ScheduledSequence(seq, offset, numTokens, startPosition, numSamples, numBeamCandidates, suppressStopTokens);
        _queryStarts[row] = offset;
        _contextLengths[row] = startPosition + numTokens;
        _sequenceIds[row] = seq.Id;
        _requestIds[row] = seq.RequestId;
        if (blocks.Length > BlockTableStride)
            BlockTableStride = blocks.Length;
        if (numSamples > 0 || numBeamCandidates > 0)
            AddLogitsRow(row, offset + numTokens - 1, numSamples, numBeamCandidates, suppressStopTokens);
        NumSequences = row + 1;
        NumTokens = need;
        if (numTokens > 1 || startPosition < seq.PromptLength)
            NumPrefillTokens += numTokens;
    }

    /// <summary>Completes the plan once every sequence is added: the last query start and the block-move pairs.</summary>
    internal void Seal()
    {
        _queryStarts[NumSequences] = NumTokens;
        _tablesBuilt = false;
        FlattenPairs(Copies, ref _copyPairs, static c => (c.SrcBlock, c.DstBlock));
        FlattenPairs(SwapInMoves, ref _swapInPairs, static m => (m.SrcBlock, m.DstBlock));
        FlattenPairs(SwapOutMoves, ref _swapOutPairs, static m => (m.SrcBlock, m.DstBlock));
    }

    /// <summary>The padded block tables. Tables do not change after their sequence was added (preemption only
    /// takes sequences not yet scheduled), so copying them after Schedule gives what each had when it was added.</summary>
    private void EnsureBlockTables()
    {
        if (_tablesBuilt)
            return;
        int n = NumSequences;
        int stride = BlockTableStride;
        if (_blockTables.Length < n * stride)
            _blockTables = new int[Math.Max(n * stride, _blockTables.Length * 2)];
        for (int s = 0; s < n; s++)
        {
            var row = _blockTables.AsSpan(s * stride, stride);
            var blocks = _sequences[s].Table.Blocks;
            blocks.CopyTo(row);
            row[blocks.Length..].Fill(-1);
        }
        _tablesBuilt = true;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void AddLogitsRow(int row, int tokenIndex, int numSamples, int numBeamCandidates, bool suppress)
    {
        int l = NumLogitsRows;
        if (l == _logitsTokenIndex.Length)
            GrowLogitsRows();
        _logitsTokenIndex[l] = tokenIndex;
        _logitsSequenceRow[l] = row;
        _numSamples[l] = numSamples;
        _numBeamCandidates[l] = numBeamCandidates;
        _suppressStop[l] = suppress ? 1 : 0;
        NumSampled += numSamples;
        NumLogitsRows = l + 1;
    }

    private void GrowLogitsRows()
    {
        int size = _logitsTokenIndex.Length * 2;
        Array.Resize(ref _logitsTokenIndex, size);
        Array.Resize(ref _logitsSequenceRow, size);
        Array.Resize(ref _numSamples, size);
        Array.Resize(ref _numBeamCandidates, size);
        Array.Resize(ref _suppressStop, size);
    }

    private void GrowTokens(int need)
    {
        int size = Math.Max(need, _tokenIds.Length * 2);
        Array.Resize(ref _tokenIds, size);
        Array.Resize(ref _positions, size);
        Array.Resize(ref _slots, size);
    }

    private void GrowRows()
    {
        int size = _sequences.Length * 2;
        Array.Resize(ref _sequences, size);
        Array.Resize(ref _queryStarts, size + 1);
        Array.Resize(ref _contextLengths, size);
        Array.Resize(ref _sequenceIds, size);
        Array.Resize(ref _requestIds, size);
    }

    private static void FlattenPairs<T>(List<T> moves, ref int[] pairs, Func<T, (int Src, int Dst)> pair)
    {
        if (pairs.Length < 2 * moves.Count)
            pairs = new int[Math.Max(2 * moves.Count, pairs.Length * 2)];
        for (int i = 0; i < moves.Count; i++)
            (pairs[2 * i], pairs[2 * i + 1]) = pair(moves[i]);
    }
}
