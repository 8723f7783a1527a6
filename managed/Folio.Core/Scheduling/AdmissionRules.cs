using Folio.Core.KvCache;

namespace Folio.Core.Scheduling;

/// <summary>
/// Which requests can never run, and why. A request is rejected on arrival when no amount of preemption could
/// make room for it — admitting it would only thrash — or when it breaks a limit of the scheduler's options.
/// </summary>
public static class AdmissionRules
{
    /// <summary>
    /// Blocks a request can need at most: its prompt's full blocks (shared by all its sequences) plus, per
    /// sequence, the rest of prompt + max_tokens.
    /// </summary>
    public static int MaxBlocksNeeded(Request request, int blockSizeTokens)
    {
        int shared = request.PromptLength / blockSizeTokens;
        long total = request.PromptLength + (long)request.Params.MaxTokens;
        long perSeq = (total + blockSizeTokens - 1) / blockSizeTokens - shared;
        return (int)Math.Min(int.MaxValue, shared + request.Width * perSeq);
    }

    /// <summary>Why <paramref name="request"/> could never run under these options and this pool, or null if it can.</summary>
    public static string? RejectReason(Request request, SchedulerOptions options, KvCacheManager kv)
    {
        int bs = kv.BlockSizeTokens;
        int poolBlocks = kv.GpuPool.NumBlocks;
        int promptBlocks = (request.PromptLength + bs - 1) / bs;
        var p = request.Params;
        if (request.PromptLength == 0)
            return "the prompt is empty (at least one token is needed).";
        if (promptBlocks > poolBlocks)
            return $"the prompt ({request.PromptLength} tokens) needs {promptBlocks} KV blocks of {bs} tokens; the GPU pool has {poolBlocks}.";
        int worst = MaxBlocksNeeded(request, bs);
        if (worst > poolBlocks)
            return $"prompt ({request.PromptLength} tokens) + max_tokens ({p.MaxTokens}) for {p.Width} sequence(s) needs up to {worst} KV blocks of {bs} tokens; the GPU pool has {poolBlocks}.";
        if (!options.EnableChunkedPrefill && (long)request.PromptLength + p.MaxTokens > options.MaxNumBatchedTokens)
            return $"chunked prefill is off and prompt ({request.PromptLength} tokens) + max_tokens ({p.MaxTokens}) exceeds max_num_batched_tokens ({options.MaxNumBatchedTokens}): a (re)computed prefill must fit one step.";
        if (p.Width > options.MaxNumSeqs)
            return $"the request runs {p.Width} sequences at once; max_num_seqs is {options.MaxNumSeqs}.";
        return null;
    }
}
