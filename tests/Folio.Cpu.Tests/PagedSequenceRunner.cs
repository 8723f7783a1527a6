using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Drives <see cref="DecoderModel.Forward"/> for a few sequences with hand-made block tables (block ids handed
/// out from a scrambled order, so that a sequence's blocks are never contiguous): enough paging to test the
/// model and backend without the scheduler.
/// </summary>
internal sealed class PagedSequenceRunner
{
    private readonly DecoderModel _model;
    private readonly DeviceKvCache _cache;
    private readonly int _blockSize;
    private readonly Queue<int> _freeBlocks;
    private readonly List<List<int>> _tables = [];
    private readonly List<int> _lengths = [];

    public PagedSequenceRunner(DecoderModel model, int blockSize, int numBlocks, int seed = 7)
    {
        _model = model;
        _blockSize = blockSize;
        _cache = model.CreateKvCache(numBlocks, blockSize);
        var ids = Enumerable.Range(0, numBlocks).ToArray();
        new Random(seed).Shuffle(ids);
        _freeBlocks = new Queue<int>(ids);
    }

    public int AddSequence()
    {
        _tables.Add([]);
        _lengths.Add(0);
        return _tables.Count - 1;
    }

    /// <summary>One step: each (sequence, new tokens) pair appends its tokens; returns the logits of every new
    /// token of each sequence (allRows) or of its last token only, as one [rows × vocab] array per sequence.</summary>
    public float[][] Step(IReadOnlyList<(int Sequence, int[] Tokens)> work, bool allRows = false) => Step(work, allRows, null);

    /// <summary>As <see cref="Step(IReadOnlyList{ValueTuple{int, int[]}}, bool)"/>, a decode step padded as a graphed
    /// step is (<see cref="DecodePadding"/>) to <paramref name="pad"/> (batch, block-table width) when given.</summary>
    public float[][] Step(IReadOnlyList<(int Sequence, int[] Tokens)> work, bool allRows, (int Batch, int Width)? pad)
    {
        var tokens = new List<int>();
        var positions = new List<int>();
        var slots = new List<int>();
        var starts = new List<int> { 0 };
        var contexts = new List<int>();
        var logitRows = new List<int>();
        int stride = 0;
        foreach (var (s, newTokens) in work)
        {
            int start = _lengths[s];
            for (int j = 0; j < newTokens.Length; j++)
            {
                int p = start + j;
                if (p / _blockSize >= _tables[s].Count)
                    _tables[s].Add(_freeBlocks.Dequeue());
                if (allRows || j == newTokens.Length - 1)
                    logitRows.Add(tokens.Count);
                tokens.Add(newTokens[j]);
                positions.Add(p);
                slots.Add(_tables[s][p / _blockSize] * _blockSize + p % _blockSize);
            }
            _lengths[s] = start + newTokens.Length;
            contexts.Add(_lengths[s]);
            starts.Add(tokens.Count);
            stride = Math.Max(stride, _tables[s].Count);
        }
        var tables = new int[work.Count * stride];
        for (int i = 0; i < work.Count; i++)
            _tables[work[i].Sequence].CopyTo(tables, i * stride);
        var input = new ModelInput
        {
            TokenIds = [.. tokens],
            Positions = [.. positions],
            SlotMapping = [.. slots],
            Attention = new AttentionBatch
            {
                QueryStarts = [.. starts],
                ContextLengths = [.. contexts],
                BlockTables = tables,
                BlockTableStride = stride,
            },
            LogitRows = [.. logitRows],
        };
        int vocab = _model.Config.VocabSize;
        if (pad is { } shape)
            input = new DecodePadding().Pad(input, shape.Batch, shape.Width);
        var logits = new float[input.NumLogitRows * vocab];
        _model.Forward(input, _cache, logits);
        var result = new float[work.Count][];
        int row = 0;
        for (int i = 0; i < work.Count; i++)
        {
            int count = allRows ? work[i].Tokens.Length : 1;
            result[i] = logits.AsSpan(row * vocab, count * vocab).ToArray();
            row += count;
        }
        return result;
    }

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
            if (v[i] > v[best])
                best = i;
        return best;
    }
}
