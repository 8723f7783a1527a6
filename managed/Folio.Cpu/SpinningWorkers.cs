using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Folio.Cpu;

/// <summary>
/// Worker threads that stay awake between jobs: after a job each spins for <see cref="SpinTicks"/> (~100 µs; pausing
/// for the first fifth, yielding the core between looks after that) on the job slot before it blocks, so the next op of the same forward pass (a few µs later) starts on a running thread
/// instead of waking a pooled one (Parallel.For's cost: a wake-up per op, ~60 ops per b8 token). The caller runs items
/// too and claims them from the same counter, so a worker that is late (descheduled, asleep) only takes fewer items.
/// Workers hold this object, not the <see cref="ParallelRunner"/>, so a runner that is never disposed still reaches
/// its finalizer, which stops them.
/// </summary>
internal sealed class SpinningWorkers
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000;   // 100 µs

    private readonly ManualResetEventSlim[] _wake;
    private Job? _job;
    private volatile bool _stopping;

    public SpinningWorkers(int workers)
    {
        _wake = new ManualResetEventSlim[workers];
        for (int w = 0; w < workers; w++)
        {
            _wake[w] = new ManualResetEventSlim(false, spinCount: 1);
            var ev = _wake[w];
            new Thread(() => Work(ev)) { IsBackground = true, Name = $"folio-cpu-{w + 1}" }.Start();
        }
    }

    /// <summary>One dispatch: its own counters, so a worker still holding an older job claims nothing from it.</summary>
    internal abstract class Job(int items)
    {
        public readonly int Items = items;
        public int Next;
        public int Done;
        public Exception? Error;

        public abstract void Run(int item);

        /// <summary>Claims and runs items until none are left.</summary>
        public void Drain()
        {
            int i;
            while ((i = Interlocked.Increment(ref Next) - 1) < Items)
            {
                try
                {
                    Run(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref Error, e, null);
                }
                Interlocked.Increment(ref Done);
            }
        }
    }

    internal sealed class Job<TState>(int items, TState state, Action<TState, int> body) : Job(items)
    {
        public override void Run(int item) => body(state, item);
    }

    /// <summary>Publishes the job, runs items on the calling thread, and returns when every item has run.</summary>
    public void Run(Job job)
    {
        Volatile.Write(ref _job, job);
        Interlocked.MemoryBarrier();   // the job before the events: pairs with the worker's Reset-then-read
        foreach (var ev in _wake)
            ev.Set();
        job.Drain();
        var spin = new SpinWait();
        while (Volatile.Read(ref job.Done) < job.Items)
            spin.SpinOnce(sleep1Threshold: -1);   // yields, never sleeps: a worker is mid-item
        if (job.Error is { } error)
            ExceptionDispatchInfo.Throw(error);
    }

    public void Stop()
    {
        _stopping = true;
        foreach (var ev in _wake)
            ev.Set();
    }

    private void Work(ManualResetEventSlim wake)
    {
        Job? seen = null;
        while (!_stopping)
        {
            var job = Volatile.Read(ref _job);
            if (job != seen)
            {
                seen = job;
                job!.Drain();
                continue;
            }
            // Pause-spin first; then yield between looks, so that a worker sharing a core with the caller (a loaded
            // machine) hands the core back instead of spinning through the caller's time slice.
            long now = Stopwatch.GetTimestamp(), yieldFrom = now + SpinTicks / 5, until = now + SpinTicks;
            while (Volatile.Read(ref _job) == seen && !_stopping && (now = Stopwatch.GetTimestamp()) < until)
            {
                if (now < yieldFrom)
                    Thread.SpinWait(20);
                else
                    Thread.Yield();
            }
            if (Volatile.Read(ref _job) != seen)
                continue;
            // Reset, then look again: a job published after the look sets the event after this Reset.
            wake.Reset();
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _job) == seen && !_stopping)
                wake.Wait();
        }
    }
}
