using Folio.Core.Compute;
using Folio.Core.Models;

namespace Folio.Cpu.Tests.Precision;

/// <summary>Whole models in 16-bit and int8 weights against the fp32 path.</summary>
public sealed class ModelPrecisionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-prec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelConfig Small => BuiltinModels.TryGet("tiny", out var c)
        ? c with { VocabSize = 300, NumLayers = 2, HiddenSize = 64, NumHeads = 4, NumKvHeads = 2, HeadDim = 16, IntermediateSize = 96 }
        : throw new InvalidOperationException();

    /// <summary>The same weights, reported as fp32 (so the backend keeps fp32 panels).</summary>
    private sealed class AsFp32(IWeightSource inner) : IWeightSource
    {
        public bool Contains(string name) => inner.Contains(name);
        public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination) => inner.Read(name, expectedShape, destination);
    }

    private static float[][] TeacherForced(DecoderModel model, int[] tokens)
    {
        var runner = new PagedSequenceRunner(model, 16, 16);
        float[] all = runner.Step([(runner.AddSequence(), tokens)], allRows: true)[0];
        int vocab = model.Config.VocabSize;
        return Enumerable.Range(0, tokens.Length).Select(i => all[(i * vocab)..((i + 1) * vocab)]).ToArray();
    }

    /// <summary>Greedy tokens and, per step, the gap between the two largest logits relative to the largest |logit|.</summary>
    private static (int[] Tokens, double[] Margins) Greedy(DecoderModel model, int[] prompt, int steps)
    {
        var runner = new PagedSequenceRunner(model, 16, 16);
        int s = runner.AddSequence();
        var output = new List<int>();
        var margins = new List<double>();
        float[] logits = runner.Step([(s, prompt)])[0];
        for (int i = 0; i < steps; i++)
        {
            int next = Array.IndexOf(logits, logits.Max());
            var sorted = logits.OrderDescending().ToArray();
            margins.Add((sorted[0] - sorted[1]) / logits.Max(Math.Abs));
            output.Add(next);
            logits = runner.Step([(s, [next])])[0];
        }
        return ([.. output], [.. margins]);
    }

    /// <summary>With <paramref name="coded"/>, the panels exponent-coded (12 bits a value, where AVX-512 BW decodes them;
    /// elsewhere plain: the backend's default there): the same logits.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ABf16CheckpointPackedStays16BitAndGivesTheFp32PathsLogitsExactly(bool coded)
    {
        coded &= Weights.CodedBf16Weight.IsSupported;
        HfFolderWriter.Write(Small, new SeededWeights(5), _dir, bf16: true);
        using var source = ModelSource.Open(_dir);
        using var b16 = new CpuBackend(2, mapWeights: false, codeBf16: coded);   // --no-mmap
        using var f32 = new CpuBackend(2);
        using var half = LlamaModel.Load(source.Config, source.Weights, b16);
        using var wide = LlamaModel.Load(source.Config, new AsFp32(source.Weights), f32);
        AssertBf16Panels(b16, coded);
        Assert.Equal(PanelBytes(Small, 16, 4), f32.WeightBytes);   // fp32 panels of 16
        int[] tokens = [5, 17, 250, 3, 99, 42, 7, 7, 120, 1, 0, 299];
        var a = TeacherForced(half, tokens);
        var b = TeacherForced(wide, tokens);
        for (int i = 0; i < tokens.Length; i++)
            Assert.Equal(b[i], a[i]);
    }

    /// <summary>16-bit panels of 32 columns, or (coded) 12 bits a value, the exception rows and tables on top.</summary>
    private static void AssertBf16Panels(CpuBackend b16, bool coded)
    {
        if (coded)
        {
            Assert.Equal([Weights.CodedBf16Gemm.KernelName], b16.WeightKernels);
            Assert.InRange(b16.WeightBytes, PanelBytes(Small, 32, 2) * 3 / 4, PanelBytes(Small, 32, 2) * 77 / 100);
        }
        else
        {
            Assert.All(b16.WeightKernels, k => Assert.StartsWith("bf16 weights, widened in registers from 32-column panels", k));
            Assert.Equal(PanelBytes(Small, 32, 2), b16.WeightBytes);
        }
    }

    /// <summary>Bytes of every MatMul weight (fused q/k/v, o, fused gate/up, down, lm_head) stored in panels of
    /// <paramref name="panelCols"/> output columns (the last zero-padded) at <paramref name="bytes"/> a weight.</summary>
    private static long PanelBytes(ModelConfig c, int panelCols, int bytes)
    {
        long q = c.NumHeads * c.HeadDim, kv = c.NumKvHeads * c.HeadDim, h = c.HiddenSize, f = c.IntermediateSize;
        long Padded(long rows, long cols) => (rows + panelCols - 1) / panelCols * panelCols * cols * bytes;
        return c.NumLayers * (Padded(q + 2 * kv, h) + Padded(h, q) + Padded(2 * f, h) + Padded(h, f)) + Padded(c.VocabSize, h);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ABf16CheckpointPackedFromItsMappingGivesTheFp32PathsLogitsExactly(bool coded)
    {
        coded &= Weights.CodedBf16Weight.IsSupported;
        HfFolderWriter.Write(Small, new SeededWeights(5), _dir, bf16: true);
        var source = ModelSource.Open(_dir);
        using var b16 = new CpuBackend(2, packMappedBf16: true, codeBf16: coded);
        using var f32 = new CpuBackend(2);
        using var half = LlamaModel.Load(source.Config, source.Weights, b16);
        using var wide = LlamaModel.Load(source.Config, new AsFp32(source.Weights), f32);
        // The checkpoint's files are closed before the model runs: the packed weights no longer need the mapping.
        source.Dispose();
        AssertBf16Panels(b16, coded);
        Assert.Equal(PanelBytes(Small, 16, 4), f32.WeightBytes);
        int[] tokens = [5, 17, 250, 3, 99, 42, 7, 7, 120, 1, 0, 299];
        var a = TeacherForced(half, tokens);
        var b = TeacherForced(wide, tokens);
        for (int i = 0; i < tokens.Length; i++)
            Assert.Equal(b[i], a[i]);
    }

    [Fact]
    public void ABf16CheckpointIsUsedInPlaceAndAgreesWithTheFp32PathToRounding()
    {
        var c = Small with { HiddenSize = 72, HeadDim = 18, IntermediateSize = 100 };
        HfFolderWriter.Write(c, new SeededWeights(5), _dir, bf16: true);
        var source = ModelSource.Open(_dir);
        using var mappedBackend = new CpuBackend(2, packMappedBf16: false);
        using var f32 = new CpuBackend(2);
        using var wide = LlamaModel.Load(source.Config, new AsFp32(source.Weights), f32);
        using var mapped = LlamaModel.Load(source.Config, source.Weights, mappedBackend);
        // The checkpoint's files are closed before the model runs: its weights hold the mapping.
        source.Dispose();
        // Every MatMul weight in place at 2 bytes a weight (no panel padding): q/k/v, o, gate/up, down; lm_head.
        long q = c.NumHeads * c.HeadDim, kv = c.NumKvHeads * c.HeadDim, h = c.HiddenSize, f = c.IntermediateSize;
        Assert.Equal(2 * (c.NumLayers * ((q + 2 * kv) * h + h * q + 3 * f * h) + (long)c.VocabSize * h), mappedBackend.WeightBytes);
        Assert.Equal([Weights.Bf16RowGemm.KernelName], mappedBackend.WeightKernels);
        int[] tokens = [5, 17, 250, 3, 99, 42, 7, 7, 120, 1, 0, 299];
        var a = TeacherForced(mapped, tokens);
        var b = TeacherForced(wide, tokens);
        // Same values, another summation order: fp32 rounding apart (measured ~1e-7 of the largest |logit|), and
        // the issue's bf16 bound (2e-2) is far looser.
        for (int i = 0; i < tokens.Length; i++)
        {
            double scale = b[i].Max(Math.Abs);
            double worst = a[i].Zip(b[i]).Max(p => Math.Abs(p.First - p.Second)) / scale;
            Assert.True(worst <= 1e-5, $"position {i}: relative logit difference {worst:E2}");
        }
        var (want, margins) = Greedy(wide, [1, 2, 3, 4], 12);
        var (got, _) = Greedy(mapped, [1, 2, 3, 4], 12);
        int stable = Array.FindIndex(margins, m => m < 1e-4) is var first and >= 0 ? first : margins.Length;
        Assert.True(stable >= 6, $"only {stable} stable steps");
        Assert.Equal(want[..stable], got[..stable]);
    }

    [Fact]
    public void Int8LogitsStayNearFp32AndGreedyTokensAgree()
    {
        var config = Small with { HiddenSize = 128, NumHeads = 8, IntermediateSize = 256, NumLayers = 3 };
        var weights = new SeededWeights(9);
        using var f32 = new CpuBackend(2);
        using var i8 = new CpuBackend(2, WeightQuantization.Int8);
        using var wide = LlamaModel.Load(config, weights, f32);
        using var quant = LlamaModel.Load(config, weights, i8);
        var rng = new Random(3);
        int[] tokens = Enumerable.Range(0, 40).Select(_ => rng.Next(config.VocabSize)).ToArray();
        var a = TeacherForced(wide, tokens);
        var q = TeacherForced(quant, tokens);
        // Stated bound: every logit within 6% of that position's largest |logit| (measured 4.2% on this seed: random
        // weights of a 3-layer model, int8 error of ~1% per GEMM compounding through 22 GEMMs).
        double worst = 0;
        int top1 = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            double scale = a[i].Max(Math.Abs);
            worst = Math.Max(worst, a[i].Zip(q[i]).Max(p => Math.Abs(p.First - p.Second)) / scale);
            top1 += Array.IndexOf(a[i], a[i].Max()) == Array.IndexOf(q[i], q[i].Max()) ? 1 : 0;
        }
        Assert.True(worst <= 0.06, $"worst relative logit error {worst:F4}, top1 {top1}");
        Assert.True(top1 >= tokens.Length - 2, $"top-1 agrees at {top1} of {tokens.Length} positions");
        // Greedy continuations agree where they are stable: up to the first step whose fp32 top-2 margin is
        // below 1% of the largest |logit| (the issue's margin rule for bf16, relative here; on this seed the
        // margins run 0.015 .. 0.27 for ten steps, then 0.001, where int8 rightly may pick the other token).
        var (want, margins) = Greedy(wide, [1, 2, 3, 4], 16);
        var (got, _) = Greedy(quant, [1, 2, 3, 4], 16);
        int stable = Array.FindIndex(margins, m => m < 0.01) is var first and >= 0 ? first : margins.Length;
        Assert.True(stable >= 6, $"only {stable} stable steps: the check would be vacuous; margins {string.Join(" ", margins.Select(m => m.ToString("F3")))}");
        Assert.Equal(want[..stable], got[..stable]);
    }

    [Fact]
    public void Int4LogitsStayNearFp32()
    {
        var config = Small with { HiddenSize = 128, NumHeads = 8, IntermediateSize = 256, NumLayers = 3 };
        var weights = new SeededWeights(9);
        using var f32 = new CpuBackend(2);
        using var i4 = new CpuBackend(2, WeightQuantization.Int4);
        using var wide = LlamaModel.Load(config, weights, f32);
        using var quant = LlamaModel.Load(config, weights, i4);
        Assert.All(i4.WeightKernels, k => Assert.StartsWith("int4", k));
        var rng = new Random(3);
        int[] tokens = Enumerable.Range(0, 40).Select(_ => rng.Next(config.VocabSize)).ToArray();
        var a = TeacherForced(wide, tokens);
        var q = TeacherForced(quant, tokens);
        // Stated bound: every logit within 35% of that position's largest |logit|, and top-1 equal at 20 of 40
        // positions (measured on this seed: 27.4%, 23/40; int8 gives 4.2%, 40/40). 4 bits with one scale per 32
        // weights leave each weight ~1/16 of its group's range off, about 8× int8's error per GEMM, compounding
        // through 22 GEMMs of a random model whose logits sit close together; real checkpoints are judged by KL.
        double worst = 0;
        int top1 = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            double scale = a[i].Max(Math.Abs);
            worst = Math.Max(worst, a[i].Zip(q[i]).Max(p => Math.Abs(p.First - p.Second)) / scale);
            top1 += Array.IndexOf(a[i], a[i].Max()) == Array.IndexOf(q[i], q[i].Max()) ? 1 : 0;
        }
        Assert.True(worst <= 0.35 && top1 >= 20, $"worst relative logit error {worst:F4}, top1 {top1}");
    }
}
