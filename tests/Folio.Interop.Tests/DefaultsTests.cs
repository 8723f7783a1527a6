using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Interop.Runtime;

namespace Folio.Interop.Tests;

/// <summary>folio_*_params_init must give what the managed API defaults to (the header documents the same).</summary>
public class DefaultsTests
{
    [Fact]
    public void Sampling_defaults_are_the_managed_defaults()
    {
        var abi = Defaults.SamplingParams();
        var managed = new SamplingParams();
        Assert.Equal(managed.N, abi.N);
        Assert.Equal(managed.MaxTokens, abi.MaxTokens);
        Assert.Equal(managed.MinTokens, abi.MinTokens);
        Assert.Equal(managed.Temperature, abi.Temperature);
        Assert.Equal(managed.TopP, abi.TopP);
        Assert.Equal(managed.MinP, abi.MinP);
        Assert.Equal(managed.RepetitionPenalty, abi.RepetitionPenalty);
        Assert.Equal(managed.PresencePenalty, abi.PresencePenalty);
        Assert.Equal(managed.FrequencyPenalty, abi.FrequencyPenalty);
        Assert.Equal(managed.IgnoreEos, abi.IgnoreEos != 0);
        Assert.Null(managed.Logprobs);
        Assert.Equal(-1, abi.Logprobs);
        Assert.Null(managed.Seed);
        Assert.Equal(managed.BeamWidth, abi.BeamWidth);
        Assert.Equal(managed.LengthPenalty, abi.LengthPenalty);
        Assert.Equal(0, abi.HasSeed);
    }

    [Fact]
    public void A_models_sampling_defaults_are_what_folio_generate_starts_from()
    {
        var generation = GenerationConfig.Parse(
            """{"temperature": 0.6, "top_p": 0.9, "top_k": 20, "min_p": 0.05, "repetition_penalty": 1.1, "max_new_tokens": 7}""",
            "generation_config.json");
        var abi = Defaults.SamplingParams(generation);
        var managed = generation.Defaults(new SamplingParams());
        Assert.Equal((0.6f, 0.9f, 20, 0.05f, 1.1f, 7), (abi.Temperature, abi.TopP, abi.TopK, abi.MinP, abi.RepetitionPenalty, abi.MaxTokens));
        Assert.Equal((managed.Temperature, managed.TopP, managed.TopK, managed.MinP, managed.RepetitionPenalty, managed.MaxTokens),
            (abi.Temperature, abi.TopP, abi.TopK, abi.MinP, abi.RepetitionPenalty, abi.MaxTokens));
        // Everything the file does not set keeps folio_sampling_params_init's value; top_k 0 stays "off".
        var plain = Defaults.SamplingParams();
        Assert.Equal(plain, Defaults.SamplingParams(GenerationConfig.None));
        Assert.Equal(0, Defaults.SamplingParams(GenerationConfig.Parse("""{"top_k": 0}""", "generation_config.json")).TopK);
    }

    [Fact]
    public void Scheduler_and_cache_defaults_are_the_managed_defaults()
    {
        var engine = Defaults.EngineParams();
        var scheduler = new SchedulerOptions();
        Assert.Equal(scheduler.MaxNumSeqs, engine.MaxNumSeqs);
        Assert.Equal(scheduler.MaxNumBatchedTokens, engine.MaxNumBatchedTokens);
        Assert.Equal((int)scheduler.PreemptionMode, engine.PreemptionMode);
        Assert.Equal(scheduler.MaxNumSeqs, Defaults.SchedulerParams().MaxNumSeqs);
        Assert.Equal(scheduler.EosTokenId, Defaults.SchedulerParams().EosTokenId);
        var kv = new KvCacheOptions { NumGpuBlocks = 1, BlockSizeTokens = 16 };
        Assert.Equal(kv.EnablePrefixCaching, engine.EnablePrefixCaching != 0);
        Assert.Equal(kv.EnablePrefixCaching, Defaults.KvManagerParams().EnablePrefixCaching != 0);
    }
}
