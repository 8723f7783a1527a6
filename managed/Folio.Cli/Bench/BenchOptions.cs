namespace Folio.Cli.Bench;

/// <summary>
/// Everything <c>folio bench</c> is asked, grouped: which executor runs the model, the engine's limits, and the
/// workload. (Issue 4 adds a model and a device to the executor group.)
/// </summary>
public sealed record BenchOptions
{
    // Executor.
    public string Executor { get; init; } = "fake";
    /// <summary>Fake executor: simulate the K/V and check every plan (off by default: it would time the simulation).</summary>
    public bool Verify { get; init; }

    // Engine.
    public int MaxNumSeqs { get; init; } = 256;
    public int MaxNumBatchedTokens { get; init; } = 8192;
    public int BlockSizeTokens { get; init; } = 16;
    /// <summary>0 = sized for the workload (room for max_num_seqs sequences of average length, twice over).</summary>
    public int GpuBlocks { get; init; }
    public int CpuBlocks { get; init; }
    public bool PrefixCaching { get; init; } = true;

    // Workload.
    /// <summary>0 = 60 × max_num_seqs / width.</summary>
    public int Requests { get; init; }
    public int N { get; init; } = 1;
    public int BeamWidth { get; init; }
    /// <summary>Mean prompt and output lengths (the Alpaca-like length model scaled to these means; 19 and 58 tokens by default).</summary>
    public int PromptLenMean { get; init; } = 19;
    public int OutputLenMean { get; init; } = 58;
    public int Seed { get; init; } = 1;
    /// <summary>Tokens of a system prompt that every prompt starts with (exercises prefix-cache hits); 0 = none.</summary>
    public int SharedPrefixLen { get; init; }

    // Output.
    public bool Json { get; init; }

    public int Width => BeamWidth > 0 ? BeamWidth : N;
}
