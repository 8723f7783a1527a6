using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Scheduling;
using Folio.Cpu;
using Folio.Structured;
using Microsoft.Extensions.Logging;

namespace Folio.Cli;

/// <summary>Builds the CPU stack for a command: the model (<see cref="CpuModel"/>), paged KV cache, executor and engine.</summary>
internal sealed class CpuEngineFactory : IDisposable
{
    private readonly CpuModel _model;
    private readonly ILoggerFactory _loggers = CliLogging.CreateFactory();

    public ModelSource Source => _model.Source;
    public CpuBackend Backend => _model.Backend;
    public DecoderModel Model => _model.Model;
    public ModelExecutor Executor { get; }
    public LlmEngine Engine { get; }
    public int BlockSizeTokens { get; }
    public int NumBlocks { get; }

    public CpuEngineFactory(string model, int threads, int blockSizeTokens, int numBlocks, int maxNumSeqs, int maxBatchedTokens,
        bool prefixCaching, long seed, WeightQuantization quantization = WeightQuantization.None)
    {
        _model = CpuModel.Open(model, threads, seed, quantization);
        BlockSizeTokens = blockSizeTokens;
        NumBlocks = numBlocks;
        Executor = _model.CreateExecutor(numBlocks, 0, blockSizeTokens, seed);
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = numBlocks, BlockSizeTokens = blockSizeTokens, EnablePrefixCaching = prefixCaching },
            Scheduler = new SchedulerOptions { MaxNumSeqs = maxNumSeqs, MaxNumBatchedTokens = maxBatchedTokens, EosTokenId = _model.EosTokenId },
            TokenConstraints = Source.Tokenizer is { } tokenizer ? new GrammarConstraintFactory(tokenizer, _model.EosTokenId) : null,
        };
        Engine = new LlmEngine(options, Executor, Source.Tokenizer is { } t ? new IncrementalDetokenizer(t) : null,
            _loggers.CreateLogger<LlmEngine>())
        {
            ChatTemplate = Source.ChatTemplate,
        };
    }

    /// <summary>KV bytes one token occupies (all layers, K and V, fp32).</summary>
    public static long KvBytesPerToken(ModelConfig c) => CpuModel.KvBytesPerToken(c);

    public void Dispose()
    {
        Executor.Dispose();
        _model.Dispose();
        _loggers.Dispose();
    }
}
