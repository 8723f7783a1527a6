using System.Text;
using Folio.Core.Models;

namespace Folio.Core.Tests.Models;

/// <summary>Every malformed model file is refused with a message naming the file and the field or tensor.</summary>
public sealed class BadModelInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-models-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string header, int dataBytes, long? claimedLength = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        string path = Path.Combine(_dir, name);
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes(claimedLength ?? json.Length));
        f.Write(json);
        f.Write(new byte[dataBytes]);
        return path;
    }

    private static string Error(Action action) => Assert.Throws<ModelFormatException>(action).Message;

    [Fact]
    public void AValidFileReadsF32Bf16AndF16()
    {
        string path = Path.Combine(_dir, "ok.safetensors");
        string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"c":{"dtype":"F16","shape":[1],"data_offsets":[12,14]},"__metadata__":{"format":"pt"}}""";
        byte[] json = Encoding.UTF8.GetBytes(header);
        using (var f = File.Create(path))
        {
            f.Write(BitConverter.GetBytes((long)json.Length));
            f.Write(json);
            f.Write(BitConverter.GetBytes(1.5f));
            f.Write(BitConverter.GetBytes(-2f));
            f.Write(BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(3.25f) >> 16)));
            f.Write(BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(-0.5f) >> 16)));
            f.Write(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)0.75f)));
        }
        using var file = SafetensorsFile.Open(path);
        var a = new float[2];
        var b = new float[2];
        var c = new float[1];
        file.ReadFloat32("a", a);
        file.ReadFloat32("b", b);
        file.ReadFloat32("c", c);
        Assert.Equal([1.5f, -2f], a);
        Assert.Equal([3.25f, -0.5f], b);
        Assert.Equal([0.75f], c);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Theory]
    [InlineData("[1099511627776, 1099511627776]", "[1099511627776, 1099511627776] has more elements than a 64-bit count holds")]
    [InlineData("[4611686018427387904]", "[4611686018427387904] × F32 is more bytes than a 64-bit size holds")]
    public void AShapeWhoseSizeOverflowsIsALoadErrorNamingTheTensor(string shape, string expected)
    {
        // 2^40 × 2^40 elements, and 2^62 elements × 4 bytes: both overflow a long. A host must get a model-load
        // error naming the tensor, not an OverflowException (FOLIO_STATUS_INTERNAL through the C ABI).
        string path = Write("o.safetensors", $$$"""{"huge":{"dtype":"F32","shape":{{{shape}}},"data_offsets":[0,16]}}""", dataBytes: 16);
        Assert.Equal($"{path}: tensor 'huge': field 'shape' {expected}", Error(() => SafetensorsFile.Open(path)));
    }

    [Fact]
    public void TruncatedFileIsRefused()
    {
        string path = Write("t.safetensors", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", dataBytes: 10);
        string e = Error(() => SafetensorsFile.Open(path));
        Assert.Contains("t.safetensors", e);
        Assert.Contains("'w'", e);
        Assert.Contains("runs past the end", e);
    }

    [Fact]
    public void HeaderLengthPastTheEndIsRefused()
    {
        string path = Write("h.safetensors", "{}", 0, claimedLength: 1000);
        Assert.Contains("truncated: the header claims 1000 bytes", Error(() => SafetensorsFile.Open(path)));
        File.WriteAllBytes(Path.Combine(_dir, "tiny.safetensors"), [1, 2, 3]);
        Assert.Contains("shorter than the 8-byte header length", Error(() => SafetensorsFile.Open(Path.Combine(_dir, "tiny.safetensors"))));
    }

    [Fact]
    public void OverlappingOffsetsAreRefused()
    {
        string path = Write("o.safetensors",
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12);
        string e = Error(() => SafetensorsFile.Open(path));
        Assert.Contains("'a' [0, 8) and 'b' [4, 12) overlap", e);
    }

    [Fact]
    public void ShapeDtypeMismatchIsRefused()
    {
        string path = Write("m.safetensors", """{"w":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,24]}}""", 24);
        string e = Error(() => SafetensorsFile.Open(path));
        Assert.Contains("tensor 'w'", e);
        Assert.Contains("shape [3, 2] × BF16 is 12 bytes but data_offsets span 24", e);
    }

    [Fact]
    public void BadJsonAndUnknownDtypeAreRefused()
    {
        Assert.Contains("not valid JSON", Error(() => SafetensorsFile.Open(Write("j.safetensors", "{\"w\":", 0))));
        Assert.Contains("'Q7' is not a safetensors dtype",
            Error(() => SafetensorsFile.Open(Write("d.safetensors", """{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}""", 1))));
    }

    [Fact]
    public void MissingTensorAndWrongShapeAreNamed()
    {
        string folder = Path.Combine(_dir, "model");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "model.safetensors");
        File.Move(Write("x.safetensors", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", 16), path);
        using var weights = CheckpointWeights.Open(folder);
        Assert.Contains("tensor 'model.norm.weight' is missing", Error(() => weights.Read("model.norm.weight", [2], new float[2])));
        string e = Error(() => weights.Read("w", [4, 1], new float[4]));
        Assert.Contains("tensor 'w' has shape [2, 2], config.json implies [4, 1]", e);
    }

    [Fact]
    public void ShardedIndexPointingAtAMissingShardIsRefused()
    {
        string folder = Path.Combine(_dir, "sharded");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
            """{"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors"}}""");
        Assert.Contains("shard 'model-00001-of-00002.safetensors' (of tensor 'a') does not exist", Error(() => CheckpointWeights.Open(folder)));
    }

    private const string GoodConfig = """
        {"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,
         "num_attention_heads":4,"num_key_value_heads":2,"vocab_size":512,"max_position_embeddings":128,
         "rms_norm_eps":1e-5,"rope_theta":10000.0,"eos_token_id":[2,3]}
        """;

    [Fact]
    public void ConfigParsesAndChecksFields()
    {
        var c = ModelConfig.Parse(GoodConfig, "config.json");
        Assert.Equal(ModelArchitecture.Llama, c.Architecture);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal([2, 3], c.EosTokenIds);
        Assert.False(c.TieWordEmbeddings);
    }

    [Theory]
    [InlineData("\"hidden_size\":64", "\"hidden_size\":\"64\"", "field 'hidden_size' has the wrong type")]
    [InlineData("\"hidden_size\":64,", "", "field 'hidden_size' is missing")]
    [InlineData("\"num_key_value_heads\":2", "\"num_key_value_heads\":3", "field 'num_key_value_heads' must divide")]
    [InlineData("LlamaForCausalLM", "GPT2LMHeadModel", "field 'architectures' 'GPT2LMHeadModel' is not supported")]
    [InlineData("\"rope_theta\":10000.0", "\"rope_theta\":10000.0,\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}", "rope type 'yarn' is not supported")]
    [InlineData("\"rms_norm_eps\":1e-5", "\"rms_norm_eps\":1e-5,\"hidden_act\":\"gelu\"", "field 'hidden_act' 'gelu' is not supported")]
    [InlineData("\"vocab_size\":512", "\"vocab_size\":-1", "field 'vocab_size' must be > 0")]
    [InlineData("\"rms_norm_eps\":1e-5", "\"rms_norm_eps\":1e-5,\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4}", "field 'quantization_config' quant_method 'gptq': pre-quantized checkpoints are not supported")]
    [InlineData("\"rms_norm_eps\":1e-5", "\"rms_norm_eps\":1e-5,\"quantization_config\":{\"quant_method\":\"awq\"}", "field 'quantization_config' quant_method 'awq'")]
    public void ConfigErrorsNameTheFileAndField(string from, string to, string expected)
    {
        string e = Error(() => ModelConfig.Parse(GoodConfig.Replace(from, to, StringComparison.Ordinal), "/m/config.json"));
        Assert.StartsWith("/m/config.json: ", e);
        Assert.Contains(expected, e);
    }

    [Fact]
    public void MistralSlidingWindowAppliesToEveryLayer()
    {
        string json = GoodConfig.Replace("LlamaForCausalLM", "MistralForCausalLM", StringComparison.Ordinal)
            .Replace("\"rope_theta\":10000.0", "\"rope_theta\":10000.0,\"sliding_window\":64", StringComparison.Ordinal);
        var c = ModelConfig.Parse(json, "config.json");
        Assert.Equal(64, c.SlidingWindow);
        Assert.All(Enumerable.Range(0, c.NumLayers), l => Assert.Equal(64, c.AttentionWindow(l)));
        string bad = json.Replace("\"sliding_window\":64", "\"sliding_window\":0", StringComparison.Ordinal);
        Assert.Contains("field 'sliding_window' must be > 0, is 0", Error(() => ModelConfig.Parse(bad, "config.json")));
    }

    [Fact]
    public void Qwen2SlidingWindowCountsOnlyWhenUsed()
    {
        string qwen = GoodConfig.Replace("LlamaForCausalLM", "Qwen2ForCausalLM", StringComparison.Ordinal)
            .Replace("\"rope_theta\":10000.0", "\"rope_theta\":10000.0,\"sliding_window\":64", StringComparison.Ordinal);
        Assert.Null(ModelConfig.Parse(qwen, "config.json").SlidingWindow);
        string used = qwen.Replace("\"sliding_window\":64", "\"sliding_window\":64,\"use_sliding_window\":true,\"max_window_layers\":1", StringComparison.Ordinal);
        var c = ModelConfig.Parse(used, "config.json");
        Assert.Equal(64, c.SlidingWindow);
        Assert.Equal(0, c.AttentionWindow(0));
        Assert.All(Enumerable.Range(1, c.NumLayers - 1), l => Assert.Equal(64, c.AttentionWindow(l)));
    }

    [Fact]
    public void AWindowCoveringTheContextIsAccepted()
    {
        var c = ModelConfig.Parse(GoodConfig, "config.json");
        string json = GoodConfig.Replace("LlamaForCausalLM", "MistralForCausalLM", StringComparison.Ordinal)
            .Replace("\"rope_theta\":10000.0", $"\"rope_theta\":10000.0,\"sliding_window\":{c.MaxPositionEmbeddings}", StringComparison.Ordinal);
        Assert.Equal(c.MaxPositionEmbeddings, ModelConfig.Parse(json, "config.json").SlidingWindow);
    }
}
