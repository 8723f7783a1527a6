using System.Text.Json.Nodes;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// The loader picks the definition that config.json's <c>architectures</c> names, and each definition reads
/// exactly the tensors its architecture has (Qwen2's q/k/v biases, Llama's attention_bias on q/k/v and o,
/// none for Mistral), and which layers attend through a sliding window.
/// </summary>
public sealed class ArchitectureTests
{
    /// <summary>A checkpoint with one tensor taken out.</summary>
    private sealed class Without(IWeightSource inner, string hidden) : IWeightSource
    {
        public bool Contains(string name) => name != hidden && inner.Contains(name);

        public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination)
        {
            if (name == hidden)
                throw new ModelFormatException($"test: tensor '{name}' is missing from the checkpoint");
            inner.Read(name, expectedShape, destination);
        }
    }

    private static ModelConfig Config(string fixture) => ModelConfig.Load(Path.Combine(Fixtures.Hf(fixture), "config.json"));

    [Theory]
    [InlineData("llama3_rope", typeof(LlamaModel))]
    [InlineData("llama_bf16_sharded", typeof(LlamaModel))]
    [InlineData("qwen2_tied", typeof(Qwen2Model))]
    [InlineData("mistral", typeof(MistralModel))]
    [InlineData("qwen3", typeof(Qwen3Model))]
    [InlineData("phi3_swa", typeof(Phi3Model))]
    public void TheLoaderDispatchesOnArchitectures(string fixture, Type expected)
    {
        using var backend = new CpuBackend(1);
        using var model = HfParityTests.LoadModel(Fixtures.Hf(fixture), backend);
        Assert.IsType(expected, model);
    }

    [Fact]
    public void EachDefinitionStatesItsBiases()
    {
        Assert.Equal(new DecoderVariant(QkvBias: true, OutputBias: false), DecoderModel.VariantOf(Config("qwen2_tied")));
        Assert.Equal(new DecoderVariant(QkvBias: false, OutputBias: false), DecoderModel.VariantOf(Config("mistral")));
        // A Mistral file that sets Llama's attention_bias key still has no biases: transformers' Mistral ignores it.
        Assert.Equal(new DecoderVariant(QkvBias: false, OutputBias: false), DecoderModel.VariantOf(Config("mistral") with { AttentionBias = true }));
        Assert.Equal(new DecoderVariant(QkvBias: false, OutputBias: false), DecoderModel.VariantOf(Config("llama3_rope")));
        Assert.Equal(new DecoderVariant(QkvBias: true, OutputBias: true), DecoderModel.VariantOf(Config("llama3_rope") with { AttentionBias = true }));
        Assert.Equal(new DecoderVariant(QkvBias: false, OutputBias: false, QkNorm: true), DecoderModel.VariantOf(Config("qwen3")));
        Assert.Equal(new DecoderVariant(QkvBias: true, OutputBias: true, QkNorm: true), DecoderModel.VariantOf(Config("qwen3") with { AttentionBias = true }));
    }

    [Fact]
    public void Qwen3ReadsItsHeadNormsAndHeadSize()
    {
        var config = Config("qwen3");
        Assert.Equal(ModelArchitecture.Qwen3, config.Architecture);
        Assert.Equal(24, config.HeadDim);   // its own key: hidden / heads would be 16
        Assert.True(config.TieWordEmbeddings);
        using var weights = CheckpointWeights.Open(Fixtures.Hf("qwen3"));
        using var backend = new CpuBackend(1);
        var e = Assert.Throws<ModelFormatException>(() =>
            DecoderModel.Load(config, new Without(weights, "model.layers.1.self_attn.k_norm.weight"), backend));
        Assert.Contains("tensor 'model.layers.1.self_attn.k_norm.weight' is missing", e.Message);
    }

    [Fact]
    public void Qwen2ReadsTheQkvBiases()
    {
        string folder = Fixtures.Hf("qwen2_tied");
        using var weights = CheckpointWeights.Open(folder);
        using var backend = new CpuBackend(1);
        var e = Assert.Throws<ModelFormatException>(() =>
            DecoderModel.Load(Config("qwen2_tied"), new Without(weights, "model.layers.1.self_attn.k_proj.bias"), backend));
        Assert.Contains("tensor 'model.layers.1.self_attn.k_proj.bias' is missing", e.Message);
    }

    [Fact]
    public void LlamaAttentionBiasAlsoReadsTheOutputBias()
    {
        var config = Config("llama3_rope") with { AttentionBias = true };
        using var backend = new CpuBackend(1);
        var e = Assert.Throws<ModelFormatException>(() =>
            DecoderModel.Load(config, new Without(new SeededWeights(3), "model.layers.0.self_attn.o_proj.bias"), backend));
        Assert.Contains("tensor 'model.layers.0.self_attn.o_proj.bias' is missing", e.Message);
        using var model = DecoderModel.Load(config, new SeededWeights(3), backend);
        Assert.IsType<LlamaModel>(model);
    }

    [Fact]
    public void MistralIgnoresAttentionBiasAndLoadsItsCheckpoint()
    {
        string folder = Fixtures.Hf("mistral");
        using var weights = CheckpointWeights.Open(folder);
        using var backend = new CpuBackend(1);
        using var model = DecoderModel.Load(Config("mistral") with { AttentionBias = true }, weights, backend);
        Assert.IsType<MistralModel>(model);
    }

    private static int[] Windows(ModelConfig c) => [.. Enumerable.Range(0, c.NumLayers).Select(c.AttentionWindow)];

    // Which layers attend to the last sliding_window positions only, as transformers decides it.
    [Fact]
    public void SlidingWindowLayersFollowTheFile()
    {
        Assert.Equal([8, 8], Windows(Config("mistral_swa")));             // Mistral: every layer
        Assert.Equal([0, 0], Windows(Config("mistral")));                 // sliding_window null
        Assert.Equal([0, 8], Windows(Config("qwen2_swa")));               // layer_types: full, sliding
        Assert.Equal([0, 0], Windows(Config("qwen2_tied")));              // use_sliding_window false
        Assert.Equal([0, 0], Windows(Config("qwen3")));                   // use_sliding_window false

        var qwen = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Hf("qwen2_swa"), "config.json")))!.AsObject();
        ModelConfig With(Action<JsonObject> change)
        {
            var copy = JsonNode.Parse(qwen.ToJsonString())!.AsObject();
            change(copy);
            return ModelConfig.Parse(copy.ToJsonString(), "/m/config.json");
        }
        // transformers 4 files have no layer_types: the layers from max_window_layers on (default 28) are windowed.
        Assert.Equal([0, 8], Windows(With(j => j.Remove("layer_types"))));
        Assert.Equal([8, 8], Windows(With(j => { j.Remove("layer_types"); j["max_window_layers"] = 0; })));
        Assert.Equal([0, 0], Windows(With(j => { j.Remove("layer_types"); j.Remove("max_window_layers"); })));
        Assert.Equal([0, 0], Windows(With(j => j["use_sliding_window"] = false)));
        Assert.Null(With(j => j["use_sliding_window"] = false).SlidingWindow);
        // Qwen3 follows Qwen2's keys.
        static void Qwen3(JsonObject j) => j["architectures"] = new JsonArray("Qwen3ForCausalLM");
        Assert.Equal([0, 8], Windows(With(Qwen3)));
        Assert.Equal([8, 8], Windows(With(j => { Qwen3(j); j.Remove("layer_types"); j["max_window_layers"] = 0; })));
        Assert.Equal([0, 0], Windows(With(j => { Qwen3(j); j["use_sliding_window"] = false; })));

        var bad = Assert.Throws<ModelFormatException>(() => With(j => j["layer_types"] = new JsonArray("full_attention", "chunked_attention")));
        Assert.Equal("/m/config.json: field 'layer_types' entry 1 is 'chunked_attention'; expected 'full_attention' or 'sliding_attention'", bad.Message);
        bad = Assert.Throws<ModelFormatException>(() => With(j => j["layer_types"] = new JsonArray("full_attention")));
        Assert.Equal("/m/config.json: field 'layer_types' has 1 entries for 2 layers (num_hidden_layers)", bad.Message);
        bad = Assert.Throws<ModelFormatException>(() => With(j => { j.Remove("layer_types"); j["max_window_layers"] = -1; }));
        Assert.Equal("/m/config.json: field 'max_window_layers' must be >= 0, is -1", bad.Message);
    }

    /// <summary>Serves a split (Llama-layout) checkpoint as Phi-3's fused one: qkv_proj = [q; k; v] rows,
    /// gate_up_proj = [gate; up] rows.</summary>
    private sealed class FusedFromSplit(IWeightSource inner, ModelConfig c) : IWeightSource
    {
        public bool Contains(string name) => true;

        public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination)
        {
            long hidden = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim;
            (string Suffix, long Rows)[] parts = name.EndsWith("self_attn.qkv_proj.weight", StringComparison.Ordinal)
                ? [("self_attn.q_proj.weight", q), ("self_attn.k_proj.weight", kv), ("self_attn.v_proj.weight", kv)]
                : name.EndsWith("mlp.gate_up_proj.weight", StringComparison.Ordinal)
                    ? [("mlp.gate_proj.weight", c.IntermediateSize), ("mlp.up_proj.weight", c.IntermediateSize)]
                    : [];
            if (parts.Length == 0)
            {
                inner.Read(name, expectedShape, destination);
                return;
            }
            string prefix = name[..name.IndexOf(parts.Length == 3 ? "self_attn." : "mlp.", StringComparison.Ordinal)];
            int at = 0;
            foreach (var (suffix, rows) in parts)
            {
                int count = (int)(rows * hidden);
                inner.Read(prefix + suffix, [rows, hidden], destination.Slice(at, count));
                at += count;
            }
            Assert.Equal(destination.Length, at);
        }
    }

    /// <summary>Phi-3's fused checkpoint is the layout Folio fuses Llama's into: the same weights either way give the
    /// same logits bit for bit (no window: Phi-3 without sliding_window is Llama with fused tensors).</summary>
    [Fact]
    public void Phi3ReadsItsFusedProjectionsAsLlamasFusedOnes()
    {
        var llama = Config("llama3_rope") with { Rope = new RopeScaling(RopeScalingKind.None, 10000) };
        var phi3 = llama with { Architecture = ModelArchitecture.Phi3 };
        Assert.Equal(new DecoderVariant(QkvBias: false, OutputBias: false, FusedProjections: true), DecoderModel.VariantOf(phi3));
        var seeded = new SeededWeights(9);
        using var backend = new CpuBackend(2);
        using var a = DecoderModel.Load(llama, seeded, backend);
        using var b = DecoderModel.Load(phi3, new FusedFromSplit(seeded, phi3), backend);
        Assert.IsType<Phi3Model>(b);
        int[] prompt = [5, 17, 250, 3, 99, 42, 7];
        var ra = new PagedSequenceRunner(a, 16, 16);
        var rb = new PagedSequenceRunner(b, 16, 16);
        Assert.Equal(ra.Step([(ra.AddSequence(), prompt)], allRows: true)[0], rb.Step([(rb.AddSequence(), prompt)], allRows: true)[0]);
        // A missing fused tensor is named.
        var e = Assert.Throws<ModelFormatException>(() =>
            DecoderModel.Load(phi3, new Without(new FusedFromSplit(seeded, phi3), "model.layers.1.mlp.gate_up_proj.weight"), backend));
        Assert.Contains("tensor 'model.layers.1.mlp.gate_up_proj.weight' is missing", e.Message);
    }

    /// <summary>Phi-3's sliding window applies to every layer when set; RoPE over part of a head (Phi-4-mini) and
    /// longrope scaling are refused by name.</summary>
    [Fact]
    public void Phi3ConfigWindowsEveryLayerAndRefusesPartialRotary()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Hf("mistral_swa"), "config.json")))!.AsObject();
        json["architectures"] = new JsonArray("Phi3ForCausalLM");
        json["model_type"] = "phi3";
        var c = ModelConfig.Parse(json.ToJsonString(), "/m/config.json");
        Assert.Equal(ModelArchitecture.Phi3, c.Architecture);
        Assert.Equal([8, 8], Windows(c));
        json["partial_rotary_factor"] = 0.75;
        var e = Assert.Throws<ModelFormatException>(() => ModelConfig.Parse(json.ToJsonString(), "/m/config.json"));
        Assert.Equal("/m/config.json: field 'partial_rotary_factor' 0.75 is not supported (only 1: RoPE over whole heads)", e.Message);
        json.Remove("partial_rotary_factor");
        json.Remove("rope_parameters");   // a transformers-4 file: rope_theta + rope_scaling
        json["rope_theta"] = 10000.0;
        json["rope_scaling"] = JsonNode.Parse("""{"type": "longrope", "short_factor": [1.0], "long_factor": [1.0]}""");
        e = Assert.Throws<ModelFormatException>(() => ModelConfig.Parse(json.ToJsonString(), "/m/config.json"));
        Assert.Contains("rope type 'longrope' is not supported", e.Message);
    }

    [Fact]
    public void ADefinitionRefusesAnotherArchitecturesConfig()
    {
        using var backend = new CpuBackend(1);
        Assert.Throws<ArgumentException>(() => Qwen2Model.Load(Config("mistral"), new SeededWeights(), backend));
    }
}
