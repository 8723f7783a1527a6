namespace Folio.Core.Simulation;

/// <summary>How a serving system sizes each request's KV memory (PagedAttention §6.1 baselines, and vLLM).</summary>
public enum PolicyKind
{
    /// <summary>Orca (Max): one contiguous chunk of the maximum sequence length (2,048 slots) per request.</summary>
    OrcaMax,
    /// <summary>Orca (Pow2): the prompt plus the next power of two of the output length (at most 2× over).</summary>
    OrcaPow2,
    /// <summary>Orca (Oracle): the prompt plus the exact output length, known in advance.</summary>
    OrcaOracle,
    /// <summary>vLLM: fixed-size blocks allocated on demand as the sequence grows.</summary>
    Paged,
}
