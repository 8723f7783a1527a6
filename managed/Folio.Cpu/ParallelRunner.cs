namespace Folio.Cpu;

/// <summary>
/// Runs independent work items on up to <see cref="Threads"/> threads. Items never share a reduction, so the
/// results do not depend on the thread count or scheduling. Small jobs run inline: a fork costs microseconds.
/// Up to one thread per core, the other threads are <see cref="SpinningWorkers"/> that stay awake between the ops
/// of a forward pass; more threads than cores (spinning would then steal the cores) and a job started while another
/// runs (a nested or concurrent call) go to Parallel.For.
/// </summary>
internal sealed class ParallelRunner(int threads) : IDisposable
{
    /// <summary>Below this many multiply-adds a job runs on the calling thread.</summary>
    private const long InlineWork = 32 * 1024;

    private readonly ParallelOptions _options = new() { MaxDegreeOfParallelism = threads };
    private SpinningWorkers? _workers;
    private int _busy;

    public int Threads { get; } = threads;

    /// <summary>
    /// Runs body(state, i) for i in 0 .. items. Pass a static lambda and a state struct: the inline path (one
    /// thread, or a small job) then allocates nothing; the parallel path allocates one small job object.
    /// </summary>
    public void For<TState>(int items, long work, TState state, Action<TState, int> body)
    {
        if (Threads <= 1 || items <= 1 || work < InlineWork)
        {
            for (int i = 0; i < items; i++)
                body(state, i);
            return;
        }
        if (Threads <= Environment.ProcessorCount && Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
        {
            try
            {
                _workers ??= new SpinningWorkers(Threads - 1);
                _workers.Run(new SpinningWorkers.Job<TState>(items, state, body));
            }
            finally
            {
                Volatile.Write(ref _busy, 0);
            }
            return;
        }
        RunParallel(items, state, body);
    }

    // Apart from For: a lambda capturing the parameters would allocate its closure at For's entry, inline path too.
    private void RunParallel<TState>(int items, TState state, Action<TState, int> body) =>
        Parallel.For(0, items, _options, i => body(state, i));

    public void Dispose()
    {
        _workers?.Stop();
        GC.SuppressFinalize(this);
    }

    ~ParallelRunner() => _workers?.Stop();
}
