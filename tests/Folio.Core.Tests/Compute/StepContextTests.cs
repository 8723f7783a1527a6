using Folio.Core.Compute;
using Folio.Core.Models;

namespace Folio.Core.Tests.Compute;

/// <summary>
/// A step's metadata is checked once, when the step begins (the CPU kernels and the CUDA kernels then trust it),
/// and the context summarises what a GPU backend needs to size its launches.
/// </summary>
public sealed class StepContextTests
{
    private sealed class Cache(int numBlocks, int blockSize, DType dtype = DType.F32, KvCacheLayout layout = KvCacheLayout.Nhd,
        int layers = 2, int heads = 2, int headDim = 8) : DeviceKvCache(layers, numBlocks, blockSize, heads, headDim, dtype, layout);

    private sealed class Context : StepContext
    {
        public void Begin(ModelInput input, DeviceKvCache cache) => Bind(input, cache);
    }

    /// <summary>Sequence 0: a 3-token prefill chunk after 2 cached tokens (context 5, blocks 7 and 2); sequence 1:
    /// one decode token at position 3 (context 4, block 5). Block size 4.</summary>
    private static ModelInput Input() => new()
    {
        TokenIds = [11, 12, 13, 21], Positions = [2, 3, 4, 3], SlotMapping = [30, 31, 8, 23], LogitRows = [2, 3],
        Attention = new AttentionBatch { QueryStarts = [0, 3, 4], ContextLengths = [5, 4], BlockTables = [7, 2, 5, -1], BlockTableStride = 2 },
    };

    [Fact]
    public void AValidStepIsBoundWithItsSummaries()
    {
        var context = new Context();
        var input = Input();
        using var cache = new Cache(numBlocks: 8, blockSize: 4);
        context.Begin(input, cache);
        Assert.Same(input, context.Input);
        Assert.Same(cache, context.Cache);
        Assert.Equal((4, 2, 2, 2), (context.NumTokens, context.NumSequences, context.NumLogitsRows, context.BlockTableStride));
        Assert.Equal((3, 5), (context.MaxQueryLength, context.MaxContextLength));
        Assert.False(context.IsDecode);
        Assert.Equal([30L, 31, 8, 23], context.SlotMapping.ToArray());
        Assert.Equal([2, 3], context.LogitsRows.ToArray());

        // The same context re-bound to a decode step of the first sequence alone (arrays longer than the batch).
        input.NumRows = 1;
        input.NumLogitRows = 1;
        input.TokenIds[0] = 14;
        input.Positions[0] = 5;
        input.SlotMapping[0] = 9;
        input.LogitRows[0] = 0;
        input.Attention.QueryStarts[1] = 1;
        input.Attention.ContextLengths[0] = 6;
        input.Attention.NumSequences = 1;
        context.Begin(input, cache);
        Assert.Equal((1, 1, 1, 6), (context.NumTokens, context.NumSequences, context.MaxQueryLength, context.MaxContextLength));
        Assert.True(context.IsDecode);
        Assert.Equal([14], context.TokenIds.ToArray());
    }

    public static TheoryData<string, string> BadSteps => new()
    {
        { "slot", "ModelInput: slot 32 outside the cache (32 slots)" },
        { "block", "ModelInput: sequence 1: block id 8 outside the cache (8 blocks)" },
        { "logits", "ModelInput: logits row 4 of 4 rows" },
        { "rows", "ModelInput: token ids, positions, slot mapping and attention rows differ in count" },
        { "query", "ModelInput: sequence 1: 2 query rows for a context of 1" },
        { "stride", "ModelInput: sequence 0: context 5 needs 2 blocks, the table stride is 1" },
    };

    [Theory]
    [MemberData(nameof(BadSteps))]
    public void ABadStepIsRefusedNamingTheProblemAndLeavesTheContextUnbound(string fault, string message)
    {
        var input = Input();
        switch (fault)
        {
            case "slot": input.SlotMapping[1] = 32; break;
            case "block": input.Attention.BlockTables[2] = 8; break;
            case "logits": input.LogitRows[1] = 4; break;
            case "rows": input.Positions = [2, 3, 4]; break;
            case "query": input.Attention.QueryStarts[1] = 2; input.Attention.ContextLengths[1] = 1; break;
            case "stride": input.Attention.BlockTableStride = 1; break;
        }
        var context = new Context();
        using var cache = new Cache(numBlocks: 8, blockSize: 4);
        var e = Assert.Throws<ArgumentException>(() => context.Begin(input, cache));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
        Assert.Null(context.Input);
    }

    [Fact]
    public void BlocksMoveOnlyBetweenCachesOfOneBlockFormat()
    {
        using var gpu = new Cache(numBlocks: 8, blockSize: 4, DType.BF16);
        gpu.RequireSameBlockFormat(new Cache(numBlocks: 100, blockSize: 4, DType.BF16), "MoveBlocks");   // counts may differ
        Assert.Equal(4L * 2 * 8 * 2, gpu.BlockBytes);
        Assert.Equal("MoveBlocks: a BF16 Nhd cache and a F32 Nhd cache hold blocks in different formats (Parameter 'other')",
            Assert.Throws<ArgumentException>(() => gpu.RequireSameBlockFormat(new Cache(8, 4, DType.F32), "MoveBlocks")).Message);
        Assert.Equal("MoveBlocks: a BF16 Nhd cache and a BF16 Hnd cache hold blocks in different formats (Parameter 'other')",
            Assert.Throws<ArgumentException>(() => gpu.RequireSameBlockFormat(new Cache(8, 4, DType.BF16, KvCacheLayout.Hnd), "MoveBlocks")).Message);
        Assert.Equal("MoveBlocks: cache geometries differ (2 layers × 4-token blocks × 2 heads × 8 vs 2 layers × 4-token blocks × 2 heads × 16) (Parameter 'other')",
            Assert.Throws<ArgumentException>(() => gpu.RequireSameBlockFormat(new Cache(8, 4, DType.BF16, headDim: 16), "MoveBlocks")).Message);
        Assert.Equal("WriteKv: the cache holds 2 KV heads of 8, the layer has 1 of 8",
            Assert.Throws<ArgumentException>(() => gpu.RequireHeads(new AttentionShape(4, 1, 8), "WriteKv")).Message);
    }

    [Fact]
    public void DTypeMismatchesAreArgumentErrorsNamingBothTypes()
    {
        DTypes.Require(DType.F16, DType.F16, "x");
        Assert.Equal("WriteKv: qkv is BF16, expected F32",
            Assert.Throws<ArgumentException>(() => DTypes.Require(DType.BF16, DType.F32, "WriteKv: qkv")).Message);
    }
}
