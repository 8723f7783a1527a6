using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Scheduling;
using Folio.Cpu;

namespace Folio.Cli;

/// <summary>Builds the CPU stack for a command: backend, model, paged KV cache, executor and engine.</summary>
internal sealed class CpuEngineFactory : IDisposable
{
    public ModelSource Source { get; }
    public CpuBackend Backend { get; }
    public LlamaModel Model { get; }
    public ModelExecutor Executor { get; }
    public LlmEngine Engine { get; }
    public int BlockSizeTokens { get; }
    public int NumBlocks { get; }

    public CpuEngineFactory(string model, int threads, int blockSizeTokens, int numBlocks, int maxNumSeqs, int maxBatchedTokens,
        bool prefixCaching, long seed)
    {
        Source = ModelSource.Open(model, seed);
        Backend = new CpuBackend(threads);
        try
        {
            Model = LlamaModel.Load(Source.Config, Source.Weights, Backend);
        }
        catch
        {
            Source.Dispose();
            throw;
        }
        BlockSizeTokens = blockSizeTokens;
        NumBlocks = numBlocks;
        int eos = Source.Tokenizer?.EosTokenId ?? (Source.Config.EosTokenIds.Count > 0 ? Source.Config.EosTokenIds[0] : -1);
        Executor = new ModelExecutor(Model, Backend, numBlocks, 0, blockSizeTokens, eos >= 0 ? [eos] : [], seed);
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = numBlocks, BlockSizeTokens = blockSizeTokens, EnablePrefixCaching = prefixCaching },
            Scheduler = new SchedulerOptions { MaxNumSeqs = maxNumSeqs, MaxNumBatchedTokens = maxBatchedTokens, EosTokenId = eos },
        };
        Engine = new LlmEngine(options, Executor, Source.Tokenizer is { } t ? new IncrementalDetokenizer(t) : null);
    }

    /// <summary>KV bytes one token occupies (all layers, K and V, fp32).</summary>
    public static long KvBytesPerToken(ModelConfig c) => 2L * c.NumLayers * c.NumKvHeads * c.HeadDim * sizeof(float);

    public void Dispose()
    {
        Executor.Dispose();
        Model.Dispose();
        Backend.Dispose();
        Source.Dispose();
    }
}
