using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// The logits of every position of a token sequence, computed in one prefill through the paged cache (the model
/// "teacher-forced" on the sequence): what parity tests compare with a reference implementation's
/// <c>model(ids).logits</c>. Not an engine path: one sequence at a time, blocks 0.. of a cache it owns.
/// </summary>
public sealed class TeacherForcedLogits : IDisposable
{
    private const int BlockSizeTokens = 16;
    private readonly DecoderModel _model;
    private readonly DeviceKvCache _cache;
    private readonly int _maxTokens;

    /// <summary>A scorer for sequences of up to <paramref name="maxTokens"/> tokens.</summary>
    public TeacherForcedLogits(DecoderModel model, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        if (maxTokens > model.Config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), $"{maxTokens} tokens exceed max_position_embeddings ({model.Config.MaxPositionEmbeddings})");
        _model = model;
        _maxTokens = maxTokens;
        _cache = model.CreateKvCache((maxTokens + BlockSizeTokens - 1) / BlockSizeTokens, BlockSizeTokens);
    }

    /// <summary>[tokens.Length × VocabSize] logits, row i predicting the token after tokens[i].</summary>
    public float[] Compute(ReadOnlySpan<int> tokens)
    {
        int n = tokens.Length;
        if (n < 1 || n > _maxTokens)
            throw new ArgumentException($"a sequence of {n} tokens; this scorer takes 1 to {_maxTokens}", nameof(tokens));
        int vocab = _model.Config.VocabSize;
        int blocks = (n + BlockSizeTokens - 1) / BlockSizeTokens;
        var input = new ModelInput
        {
            TokenIds = tokens.ToArray(),
            Positions = [.. Enumerable.Range(0, n)],
            SlotMapping = [.. Enumerable.Range(0, n).Select(i => (long)i)],   // block b holds positions 16b..16b+15
            Attention = new AttentionBatch
            {
                QueryStarts = [0, n],
                ContextLengths = [n],
                BlockTables = [.. Enumerable.Range(0, blocks)],
                BlockTableStride = blocks,
            },
            LogitRows = [.. Enumerable.Range(0, n)],
        };
        var logits = new float[(long)n * vocab];
        _model.Forward(input, _cache, logits);
        return logits;
    }

    public void Dispose() => _cache.Dispose();
}
