using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cuda.Backend;

/// <summary>
/// What a step needs in device memory beside the weights and the KV cache, measured rather than estimated (vLLM's
/// profile run). The largest step a scheduler with the given limits can plan — max_num_batched_tokens prompt
/// tokens over as many sequences as it may run (the most logits rows and samples) — runs once through the real
/// executor on a temporary cache, and the device's free memory is read around it. The backend keeps what that
/// step grew (activations, logits, attention and GEMM buffers), so those are in use when the cache is sized; the
/// executor's own buffers (the sampler's) go with the temporary executor and are what <see cref="Unheld"/> reserves.
/// The decode kernel's split workspace for the longest context is allocated here too, for the same reason.
/// </summary>
public readonly record struct ActivationProfile(long PeakBytes, long HeldBytes, long DecodeWorkspaceBytes, int Tokens, int Sequences)
{
    /// <summary>Bytes the profiled step used that are not held once it is over: the executor's buffers,
    /// allocated again by the engine's executor at its first step.</summary>
    public long Unheld => Math.Max(0, PeakBytes - HeldBytes);

    /// <summary>Runs the profile step for <paramref name="model"/>; throws an <see cref="InvalidOperationException"/>
    /// naming the step when the device cannot hold it.</summary>
    public static ActivationProfile Measure(CudaModel model, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs)
    {
        ArgumentNullException.ThrowIfNull(model);
        var c = model.Config;
        int tokens = Math.Max(1, maxNumBatchedTokens);
        // Every prompt must fit the model's context; more sequences than asked only when one could not.
        int seqs = Math.Clamp(Math.Max(maxNumSeqs, (tokens + c.MaxPositionEmbeddings - 1) / c.MaxPositionEmbeddings), 1, tokens);
        int longest = (tokens + seqs - 1) / seqs;
        int blocks = 0;
        for (int i = 0; i < seqs; i++)
            blocks += (Length(i, tokens, seqs) + blockSizeTokens - 1) / blockSizeTokens;
        var backend = model.Backend;
        try
        {
            long decode = backend.ReserveDecodeWorkspace(Math.Max(1, maxNumSeqs), c.NumHeads, c.NumKvHeads, c.HeadDim,
                c.MaxPositionEmbeddings, blockSizeTokens);
            long freeBefore = FreeAfterSync(backend);
            long peak;
            using (var executor = model.CreateExecutor(blocks, 0, blockSizeTokens, seed: 0))
            {
                long freeReady = FreeAfterSync(backend);
                var core = new EngineCore(new SchedulerOptions { MaxNumSeqs = seqs, MaxNumBatchedTokens = tokens },
                    new KvCacheManager(new KvCacheOptions { NumGpuBlocks = blocks, BlockSizeTokens = blockSizeTokens, EnablePrefixCaching = false }));
                var prompt = new int[longest];
                var sampling = new SamplingParams { MaxTokens = 1, IgnoreEos = true };
                for (int i = 0; i < seqs; i++)
                {
                    for (int t = 0; t < prompt.Length; t++)
                        prompt[t] = (int)((i * 7919L + t * 31L) % c.VocabSize);
                    core.AddRequest(prompt.AsSpan(0, Length(i, tokens, seqs)), sampling);
                }
                var plan = core.BeginStep();
                if (plan.NumTokens != tokens || plan.NumLogitsRows != seqs)
                    throw new InvalidOperationException($"the profile step planned {plan.NumTokens} tokens and {plan.NumLogitsRows} logits rows, not {tokens} and {seqs}.");
                core.CompleteStep(executor.Execute(plan));
                peak = freeReady - FreeAfterSync(backend);
            }
            long held = freeBefore - FreeAfterSync(backend);
            return new ActivationProfile(Math.Max(0, peak), Math.Max(0, held), decode, tokens, seqs);
        }
        catch (FolioCudaException e)
        {
            throw new InvalidOperationException(
                $"the largest step ({tokens} tokens over {seqs} sequences, max_num_batched_tokens and max_num_seqs) does not fit " +
                $"on the device beside the weights: {e.Message}. Lower max_num_batched_tokens or max_num_seqs.", e);
        }
    }

    /// <summary>Prompt length of profile sequence <paramref name="i"/>: the tokens spread evenly, the first ones one longer.</summary>
    private static int Length(int i, int tokens, int seqs) => tokens / seqs + (i < tokens % seqs ? 1 : 0);

    private static long FreeAfterSync(CudaBackend backend)
    {
        backend.Stream.Synchronize();
        return DeviceMemoryInfo.Query().FreeBytes;
    }
}
