using Folio.Core.Engine;

namespace Folio.Cli.Bench;

/// <summary>Builds the model executor a bench (or generate) run asks for. Issue 4 adds the model executors.</summary>
public static class ExecutorFactory
{
    public static readonly string[] Known = ["fake"];

    /// <summary>
    /// The executor named by <paramref name="name"/>, shaped for the engine's pools; bad names are a usage error.
    /// <paramref name="verify"/>: the fake simulates the K/V and checks every plan (slower; off for timing).
    /// </summary>
    public static IModelExecutor Create(string name, EngineOptions engine, int vocabSize, int eosTokenId, long seed, bool verify)
    {
        switch (name)
        {
            case "fake":
                return new FakeExecutor(new FakeExecutorOptions
                {
                    NumGpuBlocks = engine.KvCache.NumGpuBlocks,
                    NumCpuBlocks = engine.KvCache.NumCpuBlocks,
                    BlockSizeTokens = engine.KvCache.BlockSizeTokens,
                    VocabSize = vocabSize,
                    EosTokenId = eosTokenId,
                    DefaultSeed = seed,
                    SimulateKv = verify,
                });
            default:
                throw new UsageException($"--executor: unknown executor '{name}' (known: {string.Join(", ", Known)}).");
        }
    }
}
