namespace Folio.Cpu;

/// <summary>
/// Runs independent work items on up to <see cref="Threads"/> threads. Items never share a reduction, so the
/// results do not depend on the thread count or scheduling. Small jobs run inline: a fork costs microseconds.
/// </summary>
internal sealed class ParallelRunner(int threads)
{
    /// <summary>Below this many multiply-adds a job runs on the calling thread.</summary>
    private const long InlineWork = 32 * 1024;

    private readonly ParallelOptions _options = new() { MaxDegreeOfParallelism = threads };

    public int Threads { get; } = threads;

    /// <summary>
    /// Runs body(state, i) for i in 0 .. items. Pass a static lambda and a state struct: the inline path (one
    /// thread, or a small job) then allocates nothing; the parallel path allocates what Parallel.For does.
    /// </summary>
    public void For<TState>(int items, long work, TState state, Action<TState, int> body)
    {
        if (Threads <= 1 || items <= 1 || work < InlineWork)
        {
            for (int i = 0; i < items; i++)
                body(state, i);
            return;
        }
        RunParallel(items, state, body);
    }

    // Apart from For: a lambda capturing the parameters would allocate its closure at For's entry, inline path too.
    private void RunParallel<TState>(int items, TState state, Action<TState, int> body) =>
        Parallel.For(0, items, _options, i => body(state, i));
}
