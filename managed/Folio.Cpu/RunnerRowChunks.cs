using Folio.Core.Sampling;

namespace Folio.Cpu;

/// <summary>A logits row's chunks (<see cref="IRowChunkRunner"/>) on the backend's <see cref="ParallelRunner"/>: the
/// threads that ran the forward pass, idle while its one row is sampled.</summary>
internal sealed class RunnerRowChunks(ParallelRunner runner) : IRowChunkRunner
{
    public int Threads => runner.Threads;

    public void Run<TState>(int chunks, long work, TState state, Action<TState, int> body) => runner.For(chunks, work, state, body);
}
