using Folio.Core.Sampling;

namespace Folio.Core.Tests.Sampling;

/// <summary>
/// A row's temperature-1 exponentials cut into chunks on several threads (<see cref="IRowChunkRunner"/>, the CPU
/// backend's batch-1 path) give the bits one thread gives: the exponentials, their total (log-probabilities) and
/// every seeded draw, for odd vocabularies and thread counts, chunks run in any order.
/// </summary>
public sealed class RowChunksTests
{
    /// <summary>Runs the chunks last first on the calling thread: an order no real runner is bound to.</summary>
    private sealed class ReversedChunks(int threads) : IRowChunkRunner
    {
        public int Threads => threads;
        public int Calls { get; private set; }

        public void Run<TState>(int chunks, long work, TState state, Action<TState, int> body)
        {
            Calls++;
            for (int c = chunks - 1; c >= 0; c--)
                body(state, c);
        }
    }

    /// <summary>Runs the chunks on the thread pool at once.</summary>
    private sealed class PoolChunks(int threads) : IRowChunkRunner
    {
        public int Threads => threads;

        public void Run<TState>(int chunks, long work, TState state, Action<TState, int> body) =>
            Parallel.For(0, chunks, c => body(state, c));
    }

    private static float[] Logits(int vocab, int seed)
    {
        var rng = new Random(seed);
        var v = new float[vocab];
        for (int i = 0; i < vocab; i++)
            v[i] = (float)(rng.NextDouble() * 30 - 20);
        return v;
    }

    [Theory]
    [InlineData(8192, 2)]
    [InlineData(32000, 2)]
    [InlineData(32001, 3)]
    [InlineData(50257, 7)]
    [InlineData(151936, 2)]
    [InlineData(9000, 64)]   // more threads than two blocks a chunk allows: capped
    public void ChunkedExponentialsAndDrawsEqualOneThreadsBitForBit(int vocab, int threads)
    {
        var logits = Logits(vocab, vocab + threads);
        var p = new SamplingParams { Temperature = 1 };
        var one = new LogitsSampler();
        one.Prepare(logits, p, [], [], []);
        // The reference written out: PortableExp's definition, value by value.
        float max = logits.Max();
        var expected = logits.Select(l => PortableExp.Exp(l - max)).ToArray();
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), one.Exponentials1.ToArray().Select(BitConverter.SingleToInt32Bits));

        var reversed = new ReversedChunks(threads);
        foreach (IRowChunkRunner runner in new IRowChunkRunner[] { reversed, new PoolChunks(threads) })
        {
            var chunked = new LogitsSampler();
            chunked.Prepare(logits, p, [], [], [], chunks: runner);
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), chunked.Exponentials1.ToArray().Select(BitConverter.SingleToInt32Bits));
            for (int t = 0; t < vocab; t += 97)
                Assert.Equal(BitConverter.SingleToInt32Bits(one.LogProb(t)), BitConverter.SingleToInt32Bits(chunked.LogProb(t)));
            for (int i = 0; i < 2000; i++)
            {
                double u = SampleStream.Uniform(7, 0, i);
                Assert.Equal(one.Sample(p, u), chunked.Sample(p, u));
            }
        }
        Assert.Equal(1, reversed.Calls);
    }

    [Fact]
    public void AShortRowStaysOnTheCallingThread()
    {
        var runner = new ReversedChunks(2);
        var s = new LogitsSampler();
        s.Prepare(Logits(8191, 1), new SamplingParams { Temperature = 1 }, [], [], [], chunks: runner);
        Assert.Equal(0, runner.Calls);
    }
}
