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

    public void For(int items, long work, Action<int> body)
    {
        if (Threads <= 1 || items <= 1 || work < InlineWork)
        {
            for (int i = 0; i < items; i++)
                body(i);
            return;
        }
        Parallel.For(0, items, _options, body);
    }
}
