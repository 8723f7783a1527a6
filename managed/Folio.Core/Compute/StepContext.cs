using Folio.Core.Models;

namespace Folio.Core.Compute;

/// <summary>
/// One step's metadata as a backend holds it, made by <see cref="IComputeBackend.BeginStep"/>: the host arrays
/// (<see cref="Input"/>: the step plan's own arrays, not copied), the KV cache the step reads and writes, and
/// whatever the backend derived from them. Layer ops take the context instead of host spans, so the metadata
/// reaches the device once per step rather than once per layer: a CUDA backend uploads token ids, positions,
/// slot mapping, query starts, context lengths, block tables and logits rows in BeginStep into buffers it
/// allocated once for the largest step, so a decode step captured in a CUDA graph replays at fixed addresses.
/// The backend owns the context and reuses it: it is valid until the next BeginStep on the same backend (one step
/// runs at a time per backend).
/// </summary>
/// <remarks>Everything the step's ops rely on is checked once here (<see cref="Bind"/>), so a kernel may trust
/// the metadata as the CUDA kernels do (<c>folio_cuda.h</c>: device-side contents are trusted).</remarks>
public abstract class StepContext
{
    /// <summary>The step's host arrays (valid until the step plan is rebuilt).</summary>
    public ModelInput Input { get; private set; } = null!;

    /// <summary>The cache this step writes its K/V into and attends over.</summary>
    public DeviceKvCache Cache { get; private set; } = null!;

    public int NumTokens { get; private set; }
    public int NumSequences { get; private set; }
    public int NumLogitsRows { get; private set; }
    public int BlockTableStride { get; private set; }

    /// <summary>The most tokens any sequence computes this step (sizes a prefill grid).</summary>
    public int MaxQueryLength { get; private set; }

    /// <summary>The longest context of the step, new tokens included (sizes a decode split).</summary>
    public int MaxContextLength { get; private set; }

    /// <summary>Every sequence computes one token: a decode step (a GPU backend's graph-capturable shape).</summary>
    public bool IsDecode => NumSequences > 0 && MaxQueryLength == 1;

    public ReadOnlySpan<int> TokenIds => Input.TokenIds.AsSpan(0, NumTokens);
    public ReadOnlySpan<int> Positions => Input.Positions.AsSpan(0, NumTokens);
    public ReadOnlySpan<long> SlotMapping => Input.SlotMapping.AsSpan(0, NumTokens);
    public ReadOnlySpan<int> LogitsRows => Input.LogitRows.AsSpan(0, NumLogitsRows);
    public AttentionBatch Attention => Input.Attention;

    /// <summary>Points the context at <paramref name="input"/> for <paramref name="cache"/> after checking that
    /// every count, row, slot and block id is consistent and inside the cache; throws an
    /// <see cref="ArgumentException"/> naming the first problem (a caller bug), leaving the context unbound.</summary>
    protected void Bind(ModelInput input, DeviceKvCache cache)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(cache);
        Input = null!;
        Cache = null!;
        int n = input.NumRows;
        int m = input.NumLogitRows;
        var a = input.Attention;
        if (a.Validate(cache.BlockSizeTokens, cache.NumBlocks) is { } problem)
            throw new ArgumentException($"ModelInput: {problem}", nameof(input));
        if (input.TokenIds.Length < n || input.Positions.Length < n || input.SlotMapping.Length < n || a.NumRows != n)
            throw new ArgumentException("ModelInput: token ids, positions, slot mapping and attention rows differ in count", nameof(input));
        if (input.LogitRows.Length < m)
            throw new ArgumentException($"ModelInput: {m} logits rows but LogitRows holds {input.LogitRows.Length}", nameof(input));
        long slots = (long)cache.NumBlocks * cache.BlockSizeTokens;
        // Slot −1 is a padding row (a graphed decode step's): it writes no K/V.
        foreach (long slot in input.SlotMapping.AsSpan(0, n))
            if ((ulong)slot >= (ulong)slots && slot != -1)
                throw new ArgumentException($"ModelInput: slot {slot} outside the cache ({slots} slots)", nameof(input));
        foreach (int row in input.LogitRows.AsSpan(0, m))
            if ((uint)row >= (uint)n)
                throw new ArgumentException($"ModelInput: logits row {row} of {n} rows", nameof(input));
        int maxQuery = 0, maxContext = 0;
        for (int s = 0; s < a.NumSequences; s++)
        {
            maxQuery = Math.Max(maxQuery, a.QueryStarts[s + 1] - a.QueryStarts[s]);
            maxContext = Math.Max(maxContext, a.ContextLengths[s]);
        }
        Input = input;
        Cache = cache;
        NumTokens = n;
        NumSequences = a.NumSequences;
        NumLogitsRows = m;
        BlockTableStride = a.BlockTableStride;
        MaxQueryLength = maxQuery;
        MaxContextLength = maxContext;
    }
}
