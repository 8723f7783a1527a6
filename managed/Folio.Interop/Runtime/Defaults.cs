using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>
/// The defaults that folio_*_params_init write: the managed API's own defaults (<see cref="Core.Sampling.SamplingParams"/>,
/// <see cref="SchedulerOptions"/>, <see cref="KvCacheOptions"/>) in the ABI's form, so there is one place that
/// decides them; the header's comments state the same values (checked by the drift tests).
/// </summary>
public static unsafe class Defaults
{
    private static readonly SchedulerOptions Scheduler = new();
    private static readonly KvCacheOptions KvCache = new() { NumGpuBlocks = 0, BlockSizeTokens = KvCacheOptions.DefaultBlockSizeTokens };

    public static FolioEngineParams EngineParams() => new()
    {
        StructSize = (uint)sizeof(FolioEngineParams),
        Device = (int)FolioDevice.Cpu,
        BlockSizeTokens = KvCache.BlockSizeTokens,
        MaxNumSeqs = Scheduler.MaxNumSeqs,
        MaxNumBatchedTokens = Scheduler.MaxNumBatchedTokens,
        EnablePrefixCaching = KvCache.EnablePrefixCaching ? 1 : 0,
        PreemptionMode = (int)Scheduler.PreemptionMode,
        LogLevel = (int)FolioLogLevel.Warn,
    };

    public static FolioSamplingParams SamplingParams()
    {
        var m = new Core.Sampling.SamplingParams();
        return new FolioSamplingParams
        {
            StructSize = (uint)sizeof(FolioSamplingParams),
            N = m.N,
            MaxTokens = m.MaxTokens,
            MinTokens = m.MinTokens,
            Temperature = m.Temperature,
            TopP = m.TopP,
            TopK = m.TopK,
            MinP = m.MinP,
            PresencePenalty = m.PresencePenalty,
            FrequencyPenalty = m.FrequencyPenalty,
            RepetitionPenalty = m.RepetitionPenalty,
            IgnoreEos = m.IgnoreEos ? 1 : 0,
            Logprobs = m.Logprobs ?? -1,
            BeamWidth = m.BeamWidth,
            LengthPenalty = m.LengthPenalty,
        };
    }

    /// <summary>A model's request defaults: <see cref="SamplingParams()"/> with every sampling value its
    /// generation_config.json sets in its place (what vLLM does for requests without sampling params).</summary>
    public static FolioSamplingParams SamplingParams(GenerationConfig generation)
    {
        // GenerationConfig.Defaults decides which values the file sets (as `folio generate` uses them); this only
        // writes them in the ABI's form.
        var m = generation.Defaults(new Folio.Core.Sampling.SamplingParams());
        FolioSamplingParams p = SamplingParams();
        p.Temperature = m.Temperature;
        p.TopP = m.TopP;
        p.TopK = m.TopK;   // 0 = no top-k filter, in the managed API and the ABI alike
        p.MinP = m.MinP;
        p.RepetitionPenalty = m.RepetitionPenalty;
        p.MaxTokens = m.MaxTokens;
        return p;
    }

    public static FolioKvManagerParams KvManagerParams() => new()
    {
        StructSize = (uint)sizeof(FolioKvManagerParams),
        BlockSizeTokens = KvCache.BlockSizeTokens,
        EnablePrefixCaching = KvCache.EnablePrefixCaching ? 1 : 0,
    };

    public static FolioSchedulerParams SchedulerParams() => new()
    {
        StructSize = (uint)sizeof(FolioSchedulerParams),
        MaxNumSeqs = Scheduler.MaxNumSeqs,
        MaxNumBatchedTokens = Scheduler.MaxNumBatchedTokens,
        PreemptionMode = (int)Scheduler.PreemptionMode,
        EosTokenId = Scheduler.EosTokenId,
    };
}
