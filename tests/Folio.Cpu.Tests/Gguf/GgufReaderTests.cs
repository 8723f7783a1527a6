using System.Text.Json;
using Folio.Core.Models;
using Folio.Core.Models.Gguf;

namespace Folio.Cpu.Tests.Gguf;

/// <summary>The GGUF reader against files written by llama.cpp's gguf-py (tests/fixtures/gguf/make_gguf_fixtures.py):
/// dequantized tensors equal gguf-py's own reader + dequantize bit for bit; bad files are refused by name.</summary>
public sealed class GgufReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-gguf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string Fixture(string name) => Path.Combine(Fixtures.Root, "gguf", name);

    [Theory]
    [InlineData("types", new[] { "BF16", "F16", "F32", "Q4_0", "Q4_K", "Q6_K", "Q8_0" })]
    [InlineData("types-more", new[] { "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_1", "Q4_1", "Q5_0", "Q5_0", "Q5_1", "Q5_1", "Q5_K" })]
    public void EveryTensorTypeDequantizesToGgufPysValuesBitForBit(string fixture, string[] types)
    {
        using var file = GgufFile.Open(Fixture(fixture + ".gguf"));
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixture(fixture + ".ref.json")));
        var seen = new List<string>();
        foreach (var entry in reference.RootElement.EnumerateObject())
        {
            var info = file.Tensors[entry.Name];
            Assert.Equal(entry.Value.GetProperty("type").GetString(), GgmlTypes.Name(info.Type));
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), info.TorchShape);
            uint[] want = entry.Value.GetProperty("bits").EnumerateArray().Select(e => e.GetUInt32()).ToArray();
            var got = new float[info.ElementCount];
            file.ReadFloat32(info, got);
            Assert.Equal(want, got.Select(BitConverter.SingleToUInt32Bits).ToArray());
            seen.Add(GgmlTypes.Name(info.Type));
        }
        Assert.Equal(types, seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Q5_0Iq4NlAndIq4XsBlocksAsInt8GroupsHoldGgufPysValues()
    {
        using var file = GgufFile.Open(Fixture("types-more.gguf"));
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixture("types-more.ref.json")));
        int tensors = 0, negative = 0;
        foreach (var entry in reference.RootElement.EnumerateObject())
        {
            var info = file.Tensors[entry.Name];
            if (info.Type is not (GgmlType.Q5_0 or GgmlType.IQ4_NL))
                continue;
            tensors++;
            float[] want = entry.Value.GetProperty("bits").EnumerateArray().Select(e => BitConverter.UInt32BitsToSingle(e.GetUInt32())).ToArray();
            var bytes = new byte[info.ByteLength];
            file.ReadBytes(info, bytes);
            int size = info.Type == GgmlType.Q5_0 ? 22 : 18;
            var q = new sbyte[32];
            for (int b = 0; b < want.Length / 32; b++)
            {
                negative += (bytes[b * size + 1] & 0x80) >> 7;
                GgufDequantize.Int8Group(info.Type, bytes.AsSpan(b * size, size), q, out ushort scale);
                Assert.True((scale & 0x8000) == 0 && q.All(v => v != sbyte.MinValue));
                float d = (float)BitConverter.UInt16BitsToHalf(scale);
                for (int j = 0; j < 32; j++)
                    // == rather than bits: where d < 0 a zero value's product is +0 here, −0 in gguf-py.
                    Assert.True(d * q[j] == want[b * 32 + j], $"{entry.Name} block {b} [{j}]: {d * q[j]} vs {want[b * 32 + j]}");
            }
        }
        Assert.Equal(3, tensors);   // random Q5_0 and IQ4_NL blocks, and gguf-py's own Q5_0 quantization
        Assert.True(negative > 0, "the fixture has blocks with a negative d");

        // IQ4_XS: fp32 group scales d · (sc − 32), the levels as int8: d_s · q is gguf-py's value bit for bit.
        var xs = file.Tensors["iq4_xs"];
        uint[] bits = reference.RootElement.GetProperty("iq4_xs").GetProperty("bits").EnumerateArray().Select(e => e.GetUInt32()).ToArray();
        var raw = new byte[xs.ByteLength];
        file.ReadBytes(xs, raw);
        var levels = new sbyte[256];
        var groupScales = new float[8];
        for (int b = 0; b < bits.Length / 256; b++)
        {
            GgufDequantize.Int8Groups(raw.AsSpan(b * 136, 136), levels, groupScales);
            for (int i = 0; i < 256; i++)
                Assert.Equal(bits[b * 256 + i], BitConverter.SingleToUInt32Bits(groupScales[i / 32] * levels[i]));
        }
    }

    [Fact]
    public void ABlockWithANonFiniteScaleIsRefusedNamingTheTensor()
    {
        byte[] whole = File.ReadAllBytes(Fixture("types-more.gguf"));
        byte[] first;
        using (var file = GgufFile.Open(Fixture("types-more.gguf")))
        {
            var info = file.Tensors["q5_1"];
            var bytes = new byte[info.ByteLength];
            file.ReadBytes(info, bytes);
            first = bytes[..(2 * 24)];
        }
        int at = whole.AsSpan().IndexOf(first);
        Assert.True(at > 0);
        string path = Copy("types-more.gguf", b =>
        {
            b[at + 24 + 1] = 0x7C;   // block 1's d: fp16 exponent all ones
            b[at + 24] = 0x00;       // +Inf
            return b;
        });
        using var corrupt = GgufFile.Open(path);
        var t = corrupt.Tensors["q5_1"];
        var e = Assert.Throws<ModelFormatException>(() => corrupt.ReadFloat32(t, new float[t.ElementCount]));
        Assert.Contains("tensor 'q5_1': block 1 of Q5_1 gives", e.Message);
    }

    /// <summary>Bad input never crashes: files with random bytes overwritten (header, metadata, tensor infos or data)
    /// either open (a model file: as a model source too, and loaded as a model on the CPU backend, where Q5_0/IQ4_NL
    /// become int8 groups and Q4_1/Q5_1 are re-quantized) and read every tensor, or are refused with a
    /// <see cref="ModelFormatException"/>; no other
    /// exception escapes (an index past an array, an overflow, an allocation of a corrupt count).</summary>
    [Theory]
    [InlineData("types.gguf")]
    [InlineData("types-more.gguf")]
    [InlineData("llama-legacy.gguf")]
    [InlineData("qwen3-f16.gguf")]
    public void RandomlyCorruptedFilesAreReadOrRefusedButNeverCrash(string fixture)
    {
        byte[] whole = File.ReadAllBytes(Fixture(fixture));
        var rng = new Random(fixture.Length);
        int opened = 0, refused = 0;
        for (int round = 0; round < 300; round++)
        {
            byte[] bytes = (byte[])whole.Clone();
            int edits = rng.Next(1, 4);
            // Mostly the header and tensor infos (where counts and offsets live), sometimes anywhere.
            int span = rng.Next(4) == 0 ? bytes.Length : Math.Min(bytes.Length, 2048);
            for (int e = 0; e < edits; e++)
                bytes[rng.Next(span)] = (byte)rng.Next(256);
            string path = Path.Combine(_dir, $"{round}.gguf");
            File.WriteAllBytes(path, bytes);
            try
            {
                if (fixture.StartsWith("llama", StringComparison.Ordinal) || fixture.StartsWith("qwen3", StringComparison.Ordinal))
                {
                    // The config, tokenizer and chat template from the metadata too, then every weight into the backend.
                    using var source = ModelSource.Open(path);
                    using var backend = new CpuBackend(1);
                    using (DecoderModel.Load(source.Config, source.Weights, backend)) { }
                }
                using var file = GgufFile.Open(path);
                foreach (var info in file.Tensors.Values)
                {
                    if (info.ElementCount > 1 << 24)
                        continue;   // a corrupted shape that still fits the file: too large to read here, nothing to learn
                    file.ReadFloat32(info, new float[info.ElementCount]);
                    if (info.Type is GgmlType.Q5_0 or GgmlType.IQ4_NL && info.Dims.Length == 2)
                    {
                        var raw = new byte[info.ByteLength];
                        file.ReadBytes(info, raw);
                        int size = info.Type == GgmlType.Q5_0 ? 22 : 18;
                        for (int b = 0; b < raw.Length / size; b++)
                            GgufDequantize.Int8Group(info.Type, raw.AsSpan(b * size, size), new sbyte[32], out _);
                    }
                }
                opened++;
            }
            catch (ModelFormatException)
            {
                refused++;
            }
        }
        Assert.True(opened > 0 && refused > 0, $"{opened} opened, {refused} refused: the corruptions should reach both outcomes");
    }

    /// <summary>An F16 weight holding a NaN (no 16-bit panel holds one) is refused naming the tensor, as a file problem
    /// (<see cref="ModelFormatException"/>), not a backend's <see cref="ArgumentException"/>.</summary>
    [Fact]
    public void ANonFiniteHalfWeightIsRefusedNamingTheTensor()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("qwen3-f16.gguf"));
        var head = new byte[16];
        using (var file = GgufFile.Open(Fixture("qwen3-f16.gguf")))
            file.ReadBytes(file.Tensors["blk.1.attn_v.weight"], 0, head);
        int at = bytes.AsSpan().IndexOf(head);
        Assert.True(at > 0 && bytes.AsSpan(at + 1).IndexOf(head) < 0, "the tensor's first bytes should be unique in the file");
        bytes[at + 6] = 0x00;
        bytes[at + 7] = 0x7E;   // element 3 of the tensor: an fp16 NaN
        string path = Path.Combine(_dir, "nan.gguf");
        File.WriteAllBytes(path, bytes);
        using var source = ModelSource.Open(path);
        using var backend = new CpuBackend(1);
        var e = Assert.Throws<ModelFormatException>(() => DecoderModel.Load(source.Config, source.Weights, backend));
        Assert.Contains("model.layers.1.self_attn.v_proj.weight", e.Message);
        Assert.Contains("NaN", e.Message);
    }

    /// <summary>RoPE over part of each head (a rope.dimension_count below the head size: Phi-4-mini's files) is refused by
    /// name, not run as whole-head RoPE.</summary>
    [Fact]
    public void PartialRotaryGgufFilesAreRefused()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("phi3-f32.gguf"));
        byte[] key = System.Text.Encoding.UTF8.GetBytes("phi3.rope.dimension_count");
        int at = bytes.AsSpan().IndexOf(key) + key.Length;
        Assert.Equal(4, BitConverter.ToInt32(bytes, at));        // GGUF value type UINT32
        Assert.Equal(16, BitConverter.ToInt32(bytes, at + 4));   // the head size
        BitConverter.GetBytes(12).CopyTo(bytes, at + 4);
        string path = Path.Combine(_dir, "partial.gguf");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFormatException>(() => ModelSource.Open(path).Dispose());
        Assert.Contains("'phi3.rope.dimension_count' (12) is not the head size (16)", e.Message);
    }

    [Fact]
    public void MetadataOfEveryValueTypeReadsBack()
    {
        using var file = GgufFile.Open(Fixture("types.gguf"));
        Assert.Equal(3u, file.Version);
        Assert.Equal(200L, file.GetInteger("t.u8"));
        Assert.Equal(-5L, file.GetInteger("t.i8"));
        Assert.Equal(60000L, file.GetInteger("t.u16"));
        Assert.Equal(-300L, file.GetInteger("t.i16"));
        Assert.Equal(4000000000L, file.GetInteger("t.u32"));
        Assert.Equal(-7L, file.GetInteger("t.i32"));
        Assert.Equal(0.1f, (float)file.GetNumber("t.f32")!.Value);
        Assert.Equal(1L << 40, file.GetInteger("t.u64"));
        Assert.Equal(-(1L << 40), file.GetInteger("t.i64"));
        Assert.Equal(0.1, file.GetNumber("t.f64"));
        Assert.Equal(true, file.Metadata["t.bool"]);
        Assert.Equal("héllo ▁wörld", file.GetString("t.str"));
        Assert.Equal(["a", "", "ü"], file.GetArray<string>("t.strs")!);
        Assert.Equal([1L, -2L, 3L], file.GetArray<long>("t.ints")!);
        Assert.Equal([0.5f, -1.25f], file.GetArray<float>("t.floats")!);
        Assert.Equal("llama", file.GetString("general.architecture"));
        var e = Assert.Throws<ModelFormatException>(() => file.GetString("t.u8"));
        Assert.Contains("'t.u8' must be a string", e.Message);
    }

    private string Copy(string fixture, Func<byte[], byte[]> edit)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".gguf");
        File.WriteAllBytes(path, edit(File.ReadAllBytes(Fixture(fixture))));
        return path;
    }

    /// <summary>Offset of the u32 type field of tensor <paramref name="name"/>'s info (after its name and dims).</summary>
    private static int TypeFieldOffset(byte[] bytes, string name, int dims)
    {
        byte[] key = System.Text.Encoding.UTF8.GetBytes(name);
        for (int i = 8; i + key.Length < bytes.Length; i++)
            if (bytes.AsSpan(i, key.Length).SequenceEqual(key) && BitConverter.ToUInt64(bytes, i - 8) == (ulong)key.Length
                && BitConverter.ToUInt32(bytes, i + key.Length) == dims)
                return i + key.Length + 4 + 8 * dims;
        throw new InvalidOperationException(name);
    }

    [Fact]
    public void ATruncatedFileIsRefusedNamingWhatRunsPastTheEnd()
    {
        byte[] whole = File.ReadAllBytes(Fixture("types.gguf"));
        var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(Copy("types.gguf", b => b[..(b.Length - 100)])));
        Assert.Contains("tensor 'q6_k'", e.Message);
        Assert.Contains("truncated", e.Message);
        // Cut inside the header: a metadata string or count runs out.
        foreach (int cut in new[] { 3, 20, 60, 300 })
        {
            var h = Assert.Throws<ModelFormatException>(() => GgufFile.Open(Copy("types.gguf", b => b[..cut])));
            Assert.Matches("truncated|not a GGUF", h.Message);
        }
        Assert.True(whole.Length > 300);
    }

    [Fact]
    public void UnknownAndUnsupportedTensorTypesAreRefusedNamingTheTensor()
    {
        string unknown = Copy("types.gguf", b =>
        {
            BitConverter.GetBytes(77u).CopyTo(b, TypeFieldOffset(b, "q4_0", 2));
            return b;
        });
        var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(unknown));
        Assert.Contains("tensor 'q4_0' has type type 77", e.Message);
        string iq2 = Copy("types.gguf", b =>
        {
            BitConverter.GetBytes((uint)GgmlType.IQ2_XXS).CopyTo(b, TypeFieldOffset(b, "q4_k", 2));
            return b;
        });
        e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(iq2));
        Assert.Contains("tensor 'q4_k' has type IQ2_XXS, which Folio does not read (F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, BF16)", e.Message);
    }

    [Fact]
    public void NotAGgufFileAndAnUnsupportedArchitectureAreRefused()
    {
        var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(Copy("types.gguf", b => { b[0] = (byte)'X'; return b; })));
        Assert.Contains("not a GGUF file", e.Message);
        string gemma = Copy("llama-f32.gguf", b =>
        {
            byte[] key = "llama"u8.ToArray();
            // general.architecture's value is the first "llama" string after its key.
            int at = b.AsSpan().IndexOf("general.architecture"u8) + "general.architecture".Length + 4 + 8;
            "gemma"u8.CopyTo(b.AsSpan(at));
            return b;
        });
        using var file = GgufFile.Open(gemma);
        e = Assert.Throws<ModelFormatException>(() => GgufModelConfig.From(file));
        Assert.Contains("general.architecture 'gemma' is not supported", e.Message);
    }
}
