using Folio.Core.Compute;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Scheduling;
using Folio.Cpu;
using Folio.Cuda.Backend;
using Folio.Structured;
using Microsoft.Extensions.Logging;

namespace Folio.Cli;

/// <summary>Builds the stack for a command: the model on its device (<see cref="CpuModel"/> or
/// <see cref="CudaModel"/>), the paged KV cache, the executor and the engine.</summary>
internal sealed class EngineStack : IDisposable
{
    private readonly ILoadedModel _model;
    private readonly ILoggerFactory _loggers = CliLogging.CreateFactory();

    public ModelSource Source => _model.Source;
    public ModelConfig Config => _model.Config;
    public string BackendName => _model.BackendName;

    /// <summary>The CPU backend when the model runs there (its weight report), else null.</summary>
    public CpuBackend? CpuBackend => (_model as CpuModel)?.Backend;

    /// <summary>The CUDA backend when the model runs there, else null.</summary>
    public CudaBackend? CudaBackend => (_model as CudaModel)?.Backend;

    /// <summary>The GPU's profile run when the KV cache was sized from free device memory, else null.</summary>
    public ActivationProfile? CudaProfile => (_model as CudaModel)?.Profile;

    public ModelExecutor Executor { get; }
    public LlmEngine Engine { get; }
    public int BlockSizeTokens { get; }
    public int NumBlocks { get; }

    /// <summary>Opens <paramref name="model"/> on <paramref name="device"/>; <paramref name="numBlocks"/> 0 sizes the KV
    /// cache from <paramref name="kvBytes"/>, or with 0 there too from the backend's default budget (the free device
    /// memory on a GPU).</summary>
    public EngineStack(string model, DeviceSelection device, int threads, int blockSizeTokens, int numBlocks, long kvBytes,
        int maxNumSeqs, int maxBatchedTokens, bool prefixCaching, long seed, WeightQuantization quantization = WeightQuantization.None,
        bool mapWeights = true, DType kvCacheType = DType.F32)
    {
        if (device.Cuda && kvCacheType != DType.F32)
            throw new UsageException("--kv-cache-dtype applies to the CPU backend (on a GPU the cache takes --dtype)");
        _model = device.Cuda
            ? CudaModel.Open(model, device.ActivationType, seed, CudaModel.DefaultMemoryUtilization, device.CudaGraphs)
            : CpuModel.Open(model, threads, seed, quantization, mapWeights, kvCacheType);
        try
        {
            BlockSizeTokens = blockSizeTokens;
            NumBlocks = numBlocks > 0 ? numBlocks : _model.BlocksFor((ulong)Math.Max(0, kvBytes), blockSizeTokens, maxBatchedTokens, maxNumSeqs);
            Executor = _model.CreateExecutor(NumBlocks, 0, blockSizeTokens, seed);
        }
        catch
        {
            _model.Dispose();
            throw;
        }
        var options = new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = NumBlocks, BlockSizeTokens = blockSizeTokens, EnablePrefixCaching = prefixCaching },
            Scheduler = new SchedulerOptions { MaxNumSeqs = maxNumSeqs, MaxNumBatchedTokens = maxBatchedTokens, EosTokenId = _model.EosTokenId },
            TokenConstraints = Source.Tokenizer is { } tokenizer ? new GrammarConstraintFactory(tokenizer, _model.EosTokenId) : null,
        };
        Engine = new LlmEngine(options, Executor, Source.Tokenizer is { } t ? new IncrementalDetokenizer(t) : null,
            _loggers.CreateLogger<LlmEngine>())
        {
            ChatTemplate = Source.ChatTemplate,
        };
    }

    /// <summary>KV bytes one token occupies on the CPU backend (all layers, K and V, in <paramref name="kvCacheType"/>).</summary>
    public static long CpuKvBytesPerToken(ModelConfig c, DType kvCacheType = DType.F32) => CpuModel.KvBytesPerTokenOf(c, kvCacheType);

    public void Dispose()
    {
        Executor.Dispose();
        _model.Dispose();
        _loggers.Dispose();
    }
}
