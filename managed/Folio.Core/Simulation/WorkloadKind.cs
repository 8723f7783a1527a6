namespace Folio.Core.Simulation;

/// <summary>The synthetic length distributions of the paper's two datasets (PagedAttention §6.1, Fig. 11).</summary>
public enum WorkloadKind
{
    /// <summary>ShareGPT: long, widely spread prompts and outputs (paper means 161.31 in, 337.99 out).</summary>
    ShareGptLike,
    /// <summary>Alpaca: short instructions and answers (paper means 19.31 in, 58.45 out).</summary>
    AlpacaLike,
}
