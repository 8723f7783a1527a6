namespace Folio.Core.Sampling;

/// <summary>
/// Runs the chunks of one logits row's element-wise work (its exponentials and their block sums) on several threads:
/// a backend with threads of its own passes one to the <see cref="HostSampler"/>, which hands it to the row it samples
/// on the calling thread (a step with one logits row: batch-1 decode), so that row's O(vocabulary) work does not leave
/// the other cores idle. Each chunk writes its own whole blocks of the sampler's buffers: a row's results are the same
/// bits on any number of threads.
/// </summary>
public interface IRowChunkRunner
{
    /// <summary>Threads the chunks may run on: the number of chunks a row is cut into.</summary>
    int Threads { get; }

    /// <summary>Runs body(state, c) for c in [0, <paramref name="chunks"/>), no two with the same c at once, and
    /// returns when all have run. <paramref name="work"/> estimates the operations (a small job may run inline).</summary>
    void Run<TState>(int chunks, long work, TState state, Action<TState, int> body);
}
