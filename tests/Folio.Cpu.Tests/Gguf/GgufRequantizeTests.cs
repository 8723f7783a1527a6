using System.Text.Json;
using Folio.Core.Models.Gguf;

namespace Folio.Cpu.Tests.Gguf;

/// <summary>Q4_1, Q5_1 and Q2_K blocks (whose affine values no int8 group holds exactly) re-quantized to int8 groups of
/// 32: against gguf-py's dequantization of the same blocks, each group's scale is its largest magnitude / 127 and
/// every value lies within half a step; other types are refused.</summary>
public sealed class GgufRequantizeTests
{
    [Fact]
    public void EveryValueIsWithinHalfAStepOfGgufPysValue()
    {
        using var file = GgufFile.Open(GgufReaderTests.Fixture("types-more.gguf"));
        using var reference = JsonDocument.Parse(File.ReadAllText(GgufReaderTests.Fixture("types-more.ref.json")));
        var seen = new HashSet<GgmlType>();
        foreach (var entry in reference.RootElement.EnumerateObject())
        {
            var info = file.Tensors[entry.Name];
            if (!GgufRequantize.Applies(info.Type))
                continue;
            seen.Add(info.Type);
            float[] want = entry.Value.GetProperty("bits").EnumerateArray().Select(e => BitConverter.UInt32BitsToSingle(e.GetUInt32())).ToArray();
            var bytes = new byte[info.ByteLength];
            file.ReadBytes(info, bytes);
            Assert.True(GgmlTypes.TryBlock(info.Type, out int elements, out int size));
            var values = new float[elements];
            var q = new sbyte[elements];
            var scales = new float[elements / 32];
            for (int b = 0; b < want.Length / elements; b++)
            {
                GgufRequantize.Int8Groups(info.Type, bytes.AsSpan(b * size, size), values, q, scales);
                for (int g = 0; g < scales.Length; g++)
                {
                    var group = want.AsSpan(b * elements + g * 32, 32).ToArray();
                    Assert.Equal(group.Max(MathF.Abs) / 127f, scales[g]);
                    for (int j = 0; j < 32; j++)
                    {
                        Assert.NotEqual(sbyte.MinValue, q[g * 32 + j]);
                        Assert.True(Math.Abs(scales[g] * q[g * 32 + j] - group[j]) <= scales[g] * 0.50001f,
                            $"{entry.Name} block {b} group {g} value {j}: {scales[g] * q[g * 32 + j]} vs {group[j]}");
                    }
                }
            }
        }
        Assert.Equal([GgmlType.Q4_1, GgmlType.Q5_1, GgmlType.Q2_K], seen.Order());
    }

    [Fact]
    public void TypesHeldExactlyAreRefused()
    {
        Assert.False(GgufRequantize.Applies(GgmlType.Q4_0));
        Assert.False(GgufRequantize.Applies(GgmlType.Q4_K));
        var e = Assert.Throws<ArgumentException>(() => GgufRequantize.Int8Groups(GgmlType.Q8_0, new byte[34], new float[32], new sbyte[32], new float[1]));
        Assert.Contains("Q8_0", e.Message);
    }
}
