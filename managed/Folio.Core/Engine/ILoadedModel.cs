using Folio.Core.Models;

namespace Folio.Core.Engine;

/// <summary>
/// A model opened on a backend as every host opens it: its source (config, weights, tokenizer), the backend and
/// the loaded definition, and the executor that runs it for an engine. The CPU backend's is <c>Folio.Cpu.CpuModel</c>,
/// the CUDA backend's <c>Folio.Cuda.Backend.CudaModel</c>; hosts (the CLI, libfolio) take either.
/// </summary>
public interface ILoadedModel : IDisposable
{
    ModelSource Source { get; }
    ModelConfig Config => Source.Config;

    /// <summary>The model on its backend (a host's own forward passes: <see cref="TeacherForcedLogits"/>).</summary>
    DecoderModel Model { get; }

    /// <summary>The primary EOS id, or -1.</summary>
    int EosTokenId { get; }

    /// <summary>The backend's name ("cpu", "cuda (BF16)" …), for logs and reports.</summary>
    string BackendName { get; }

    /// <summary>KV bytes one token occupies in this backend's cache (all layers, K and V).</summary>
    long KvBytesPerToken { get; }

    /// <summary>KV blocks the backend can hold for <paramref name="kvMemoryBytes"/> (0: the backend's own default
    /// budget: a fixed size on the CPU; on a GPU the free device memory once the largest step the scheduler's limits
    /// allow has run).</summary>
    int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs);

    /// <summary>The executor that runs this model for an engine with the given KV pools.</summary>
    ModelExecutor CreateExecutor(int numGpuBlocks, int numCpuBlocks, int blockSizeTokens, long seed);
}
