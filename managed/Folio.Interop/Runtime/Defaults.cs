using Folio.Core.Models;
using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>The defaults that folio_*_params_init write; the header's comments state the same values.</summary>
public static unsafe class Defaults
{
    public static FolioEngineParams EngineParams() => new()
    {
        StructSize = (uint)sizeof(FolioEngineParams),
        Device = (int)FolioDevice.Cpu,
        BlockSizeTokens = 16,
        MaxNumSeqs = 256,
        MaxNumBatchedTokens = 2048,
        EnablePrefixCaching = 1,
        PreemptionMode = (int)FolioPreemptionMode.Recompute,
        LogLevel = (int)FolioLogLevel.Warn,
    };

    public static FolioSamplingParams SamplingParams() => new()
    {
        StructSize = (uint)sizeof(FolioSamplingParams),
        N = 1,
        MaxTokens = 16,
        Temperature = 1f,
        TopP = 1f,
        RepetitionPenalty = 1f,
        Logprobs = -1,
        LengthPenalty = 1f,
    };

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
        BlockSizeTokens = 16,
        EnablePrefixCaching = 1,
    };

    public static FolioSchedulerParams SchedulerParams() => new()
    {
        StructSize = (uint)sizeof(FolioSchedulerParams),
        MaxNumSeqs = 256,
        MaxNumBatchedTokens = 2048,
        PreemptionMode = (int)FolioPreemptionMode.Recompute,
        EosTokenId = -1,
    };
}
