using Folio.Core.Engine;

namespace Folio.Cuda.Backend;

/// <summary>
/// What a step needs in device memory beside the weights and the KV cache, measured rather than estimated (vLLM's
/// profile run). The largest step a scheduler with the given limits can plan (<see cref="LargestStep"/>:
/// max_num_batched_tokens prompt tokens over as many sequences as it may run, the most logits rows and samples)
/// runs once through the real executor on a temporary cache, and the device's free memory is read around it. The backend keeps what that
/// step grew (activations, logits, attention and GEMM buffers), so those are in use when the cache is sized; the
/// executor's own buffers (the sampler's) go with the temporary executor and are what <see cref="Unheld"/> reserves.
/// The decode kernel's split workspace for the longest context is allocated here too, for the same reason.
/// </summary>
public readonly record struct ActivationProfile(long PeakBytes, long HeldBytes, long DecodeWorkspaceBytes, int Tokens, int Sequences)
{
    /// <summary>Bytes the profiled step used that are not held once it is over: the executor's buffers,
    /// allocated again by the engine's executor at its first step.</summary>
    public long Unheld => Math.Max(0, PeakBytes - HeldBytes);

    /// <summary>Runs the profile step for <paramref name="model"/>; throws a <see cref="DeviceMemoryException"/>
    /// naming the step when the device cannot hold it.</summary>
    public static ActivationProfile Measure(CudaModel model, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs)
    {
        ArgumentNullException.ThrowIfNull(model);
        var c = model.Config;
        var step = LargestStep.Create(c.VocabSize, c.MaxPositionEmbeddings, blockSizeTokens, maxNumBatchedTokens, maxNumSeqs);
        var backend = model.Backend;
        try
        {
            long decode = backend.ReserveDecodeWorkspace(Math.Max(1, maxNumSeqs), c.NumHeads, c.NumKvHeads, c.HeadDim,
                c.MaxPositionEmbeddings, blockSizeTokens);
            long freeBefore = FreeAfterSync(backend);
            long peak;
            using (var executor = model.CreateExecutor(step.Blocks, 0, blockSizeTokens, seed: 0))
            {
                long freeReady = FreeAfterSync(backend);
                var plan = step.Core.BeginStep();
                if (plan.NumTokens != step.Tokens || plan.NumLogitsRows != step.Sequences)
                    throw new InvalidOperationException($"the profile step planned {plan.NumTokens} tokens and {plan.NumLogitsRows} logits rows, not {step.Tokens} and {step.Sequences}.");
                step.Core.CompleteStep(executor.Execute(plan));
                peak = freeReady - FreeAfterSync(backend);
            }
            long held = freeBefore - FreeAfterSync(backend);
            return new ActivationProfile(Math.Max(0, peak), Math.Max(0, held), decode, step.Tokens, step.Sequences);
        }
        catch (FolioCudaException e)
        {
            throw new DeviceMemoryException(
                $"the largest step ({step.Tokens} tokens over {step.Sequences} sequences, max_num_batched_tokens and max_num_seqs) does not fit " +
                $"on the device beside the weights: {e.Message}. Lower max_num_batched_tokens or max_num_seqs.", e);
        }
    }

    private static long FreeAfterSync(CudaBackend backend)
    {
        backend.Stream.Synchronize();
        return DeviceMemoryInfo.Query().FreeBytes;
    }
}
