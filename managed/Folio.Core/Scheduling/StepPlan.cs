using Folio.Core.KvCache;

namespace Folio.Core.Scheduling;

/// <summary>
/// What one step asks of the model executor. Buffers are owned by the scheduler and reused every step: the plan
/// is valid until the next <see cref="Scheduler.Schedule"/>. Order of work before the forward pass: swap-outs,
/// then swap-ins, then block copies (copy-on-write), then the K/V writes of the scheduled tokens.
/// </summary>
public sealed class StepPlan
{
    private ScheduledSequence[] _sequences = new ScheduledSequence[64];
    private int[] _tokenIds = new int[256];
    private int[] _positions = new int[256];
    private int[] _slots = new int[256];

    /// <summary>Step counter of the scheduler (1 for the first plan).</summary>
    public long StepIndex { get; private set; }

    public int NumSequences { get; private set; }
    public int NumTokens { get; private set; }
    public int NumPrefillTokens { get; private set; }

    public ReadOnlySpan<ScheduledSequence> Sequences => _sequences.AsSpan(0, NumSequences);

    /// <summary>Flat over the scheduled sequences, in order (see <see cref="ScheduledSequence.TokenOffset"/>).</summary>
    public ReadOnlySpan<int> TokenIds => _tokenIds.AsSpan(0, NumTokens);
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, NumTokens);
    public ReadOnlySpan<int> SlotMapping => _slots.AsSpan(0, NumTokens);

    /// <summary>Copy-on-write block copies (GPU → GPU) to run before the forward pass.</summary>
    public IReadOnlyList<BlockCopy> BlockCopies => Copies;

    /// <summary>GPU → CPU block moves (preempted groups).</summary>
    public IReadOnlyList<BlockMove> SwapOut => SwapOutMoves;

    /// <summary>CPU → GPU block moves (resumed groups).</summary>
    public IReadOnlyList<BlockMove> SwapIn => SwapInMoves;

    /// <summary>Requests preempted while planning this step (by recompute or swap).</summary>
    public int NumPreempted { get; internal set; }

    public bool IsEmpty => NumSequences == 0 && Copies.Count == 0 && SwapOutMoves.Count == 0 && SwapInMoves.Count == 0;

    internal List<BlockCopy> Copies { get; } = [];
    internal List<BlockMove> SwapOutMoves { get; } = [];
    internal List<BlockMove> SwapInMoves { get; } = [];

    internal void Reset(long stepIndex)
    {
        StepIndex = stepIndex;
        NumSequences = 0;
        NumTokens = 0;
        NumPrefillTokens = 0;
        NumPreempted = 0;
        Copies.Clear();
        SwapOutMoves.Clear();
        SwapInMoves.Clear();
    }

    /// <summary>Adds a sequence whose table already covers the positions; fills ids, positions and slots.</summary>
    internal void Add(Sequence seq, int startPosition, int numTokens, int numSamples, int numBeamCandidates, bool suppressStopTokens)
    {
        if (NumSequences == _sequences.Length)
            Array.Resize(ref _sequences, _sequences.Length * 2);
        int need = NumTokens + numTokens;
        if (need > _tokenIds.Length)
        {
            int size = Math.Max(need, _tokenIds.Length * 2);
            Array.Resize(ref _tokenIds, size);
            Array.Resize(ref _positions, size);
            Array.Resize(ref _slots, size);
        }
        var table = seq.Table!;
        var blocks = table.Blocks;
        int bs = table.BlockSizeTokens;
        var tokens = seq.Tokens;
        int offset = NumTokens;
        for (int i = 0; i < numTokens; i++)
        {
            int p = startPosition + i;
            _tokenIds[offset + i] = tokens[p];
            _positions[offset + i] = p;
            _slots[offset + i] = blocks[p / bs] * bs + p % bs;
        }
        _sequences[NumSequences++] = new ScheduledSequence(seq, offset, numTokens, startPosition, numSamples, numBeamCandidates, suppressStopTokens);
        NumTokens = need;
        if (numTokens > 1 || startPosition < seq.PromptLength)
            NumPrefillTokens += numTokens;
    }
}
