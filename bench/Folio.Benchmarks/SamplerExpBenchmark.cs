using System.Diagnostics;
using System.Numerics.Tensors;
using Folio.Core.Sampling;

namespace Folio.Benchmarks;

/// <summary>
/// <c>sampler-exp [ROWS] [VOCAB] [ROUNDS]</c>: the sampler's exponentials for one decode step (ROWS rows of VOCAB
/// logits, exp(logit − max)) on one thread, as <c>TensorPrimitives</c> Subtract + Exp (the sampler's before
/// <see cref="PortableExp"/>) and as <see cref="PortableExp"/> in each width, then a whole <see cref="LogitsSampler"/>
/// Prepare + Sample at temperature 1 (the bench's) and its other passes alone. The methods alternate within each round; prints each one's median
/// and range of ms a step. Run it with <c>DOTNET_TieredCompilation=0</c> (as the CLI runs).
/// </summary>
internal static class SamplerExpBenchmark
{
    public static void Run(int rows, int vocab, int rounds)
    {
        Console.WriteLine($"sampler-exp, {rows} rows × {vocab}; {DateTime.UtcNow:u}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var rng = new Random(3);
        var logits = new float[rows][];
        for (int r = 0; r < rows; r++)
            logits[r] = Enumerable.Range(0, vocab).Select(_ => (float)(rng.NextDouble() * 30 - 20)).ToArray();
        var max = logits.Select(l => l.Max()).ToArray();
        var destination = new float[vocab];
        var work = new float[vocab];
        var sums = new double[BlockSums.BlockCount(vocab)];
        var sampler = new LogitsSampler();
        var p = new SamplingParams { Temperature = 1 };
        var methods = new (string Name, Action<int> Row)[]
        {
            ("TensorPrimitives Subtract+Exp", r => { TensorPrimitives.Subtract(logits[r], max[r], destination); TensorPrimitives.Exp(destination, destination); }),
            ("PortableExp 512", r => PortableExp.ExpShifted512(logits[r], max[r], 1f, destination)),
            ("PortableExp 256", r => PortableExp.ExpShifted256(logits[r], max[r], 1f, destination)),
            ("PortableExp 128", r => PortableExp.ExpShifted128(logits[r], max[r], 1f, destination)),
            ("PortableExp scalar", r => PortableExp.ExpShiftedScalar(logits[r], max[r], 1f, destination, 0)),
            ("LogitsSampler Prepare+Sample", r => { sampler.Prepare(logits[r], p, [], [], []); sampler.Sample(p, 0.5); }),
            // Prepare's other passes, for scale: the copy of the row, the argmax, the block sums.
            ("  of which: copy", r => logits[r].CopyTo(work, 0)),
            ("  of which: ArgMax", r => ArgMax.Of(logits[r])),
            ("  of which: BlockSums", r => BlockSums.Compute(destination, sums)),
        };
        var ms = methods.Select(_ => new List<double>()).ToArray();
        for (int round = -1; round < rounds; round++)
            for (int m = 0; m < methods.Length; m++)
            {
                long t = Stopwatch.GetTimestamp();
                for (int r = 0; r < rows; r++)
                    methods[m].Row(r);
                if (round >= 0)   // round −1 compiles
                    ms[m].Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        for (int m = 0; m < methods.Length; m++)
        {
            var s = ms[m].Order().ToArray();
            Console.WriteLine($"{methods[m].Name,-32} median {s[s.Length / 2]:F3} ms a step (range {s[0]:F3}–{s[^1]:F3})");
        }
    }
}
