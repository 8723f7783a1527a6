using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cpu.Tests;

public sealed class BuiltinModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-init-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelConfig Small => BuiltinModels.TryGet("tiny", out var c)
        ? c with { VocabSize = 300, NumLayers = 2, HiddenSize = 64, NumHeads = 4, NumKvHeads = 2, HeadDim = 16, IntermediateSize = 96 }
        : throw new InvalidOperationException();

    private static float[] LastLogits(DecoderModel model, int[] prompt)
    {
        var runner = new PagedSequenceRunner(model, 16, 16);
        return runner.Step([(runner.AddSequence(), prompt)])[0];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AWrittenFolderLoadsBackToTheSameModel(bool bf16)
    {
        var config = Small;
        var seeded = new SeededWeights(3);
        HfFolderWriter.Write(config, seeded, _dir, bf16);
        using var source = ModelSource.Open(_dir);
        Assert.Equal(config with { EosTokenIds = source.Config.EosTokenIds }, source.Config);
        using var backend = new CpuBackend(2);
        using var fromFolder = LlamaModel.Load(source.Config, source.Weights, backend);
        using var direct = LlamaModel.Load(config, seeded, backend);
        int[] prompt = [5, 17, 250, 3, 99];
        float[] a = LastLogits(fromFolder, prompt), b = LastLogits(direct, prompt);
        if (!bf16)
            Assert.Equal(b, a);   // fp32 round trip is exact
        else
            Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) < 0.05 * b.Max(Math.Abs), "bf16 weights drift too far");
    }

    /// <summary>A Qwen3 shape (qwen3-0.6b, cut to two small layers) written as a folder loads back as Qwen3 with its
    /// head size and q/k norms, to the same logits; every built-in shape's parameter count is its tensors'.</summary>
    [Fact]
    public void AQwen3FolderLoadsBackAndEveryShapeCountsItsTensors()
    {
        Assert.True(BuiltinModels.TryGet("qwen3-0.6b", out var full));
        Assert.Equal((ModelArchitecture.Qwen3, 128, 596_049_920L), (full.Architecture, full.HeadDim, full.ParameterCount()));
        foreach (string name in BuiltinModels.Names)
        {
            Assert.True(BuiltinModels.TryGet(name, out var c));
            Assert.Equal(BuiltinModels.TensorShapes(c).Sum(t => t.Shape.Aggregate(1L, (x, y) => x * y)), c.ParameterCount());
        }
        var config = full with { VocabSize = 300, NumLayers = 2, HiddenSize = 64, NumHeads = 4, NumKvHeads = 2, HeadDim = 32, IntermediateSize = 96 };
        var seeded = new SeededWeights(5);
        HfFolderWriter.Write(config, seeded, _dir, bf16: false);
        using var source = ModelSource.Open(_dir);
        Assert.Equal(config with { EosTokenIds = source.Config.EosTokenIds }, source.Config);
        Assert.Contains(BuiltinModels.TensorShapes(config), t => t.Name == "model.layers.1.self_attn.k_norm.weight" && t.Shape.SequenceEqual([32L]));
        using var backend = new CpuBackend(2);
        using var fromFolder = DecoderModel.Load(source.Config, source.Weights, backend);
        using var direct = DecoderModel.Load(config, seeded, backend);
        Assert.IsType<Qwen3Model>(fromFolder);
        int[] prompt = [5, 17, 250, 3, 99];
        Assert.Equal(LastLogits(direct, prompt), LastLogits(fromFolder, prompt));
    }

    [Fact]
    public void SeededWeightsAreDeterministicAndChunkable()
    {
        var w = new SeededWeights(1);
        var whole = new float[1000];
        w.Read("model.layers.0.mlp.up_proj.weight", [10, 100], whole);
        var tail = new float[400];
        w.Fill("model.layers.0.mlp.up_proj.weight", [10, 100], 600, tail);
        Assert.Equal(whole[600..], tail);
        Assert.InRange(Math.Sqrt(whole.Average(v => v * v)), 0.09, 0.11);   // std 1/√100
    }

    [Fact]
    public void APromptLongerThanMaxPositionsIsRefusedAndTheEngineKeepsServing()
    {
        var config = Small with { MaxPositionEmbeddings = 64 };
        using var backend = new CpuBackend(2);
        using var model = LlamaModel.Load(config, new SeededWeights(), backend);
        using var executor = new ModelExecutor(model, backend, 32, 0, 16, []);
        var engine = new LlmEngine(new EngineOptions { KvCache = new KvCacheOptions { NumGpuBlocks = 32, BlockSizeTokens = 16 } }, executor);
        var p = new SamplingParams { Temperature = 0, MaxTokens = 8, IgnoreEos = true };
        var good = engine.AddRequest([1, 2, 3], p);
        engine.Step();
        int[] tooLong = Enumerable.Range(1, 60).ToArray();
        string? problem = PromptLimits.Check(config, tooLong, p.MaxTokens);
        Assert.Equal("prompt of 60 tokens + max_tokens 8 = 68 positions exceeds max_position_embeddings (64) of config.json", problem);
        Assert.Contains("outside the vocabulary", PromptLimits.Check(config, [1, 300], 1));
        while (engine.HasUnfinished)
            engine.Step();
        Assert.Equal(8, engine.GetOutput(good).Outputs[0].TokenIds.Count);
        // The model itself refuses positions past the limit (a caller bug), naming the field.
        var runner = new PagedSequenceRunner(model, 16, 16);
        var e = Assert.Throws<ArgumentException>(() => runner.Step([(runner.AddSequence(), Enumerable.Range(1, 65).ToArray())]));
        Assert.Contains("max_position_embeddings (64)", e.Message);
    }
}
