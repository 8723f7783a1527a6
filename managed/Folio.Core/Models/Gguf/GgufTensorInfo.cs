namespace Folio.Core.Models.Gguf;

/// <summary>One tensor of a GGUF file. <see cref="Dims"/> are ggml's ne, fastest first (a [out, in] PyTorch
/// weight is ne = [in, out]); <see cref="Offset"/> is relative to the aligned data section.</summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Dims, long Offset, long ByteLength)
{
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>The shape as PyTorch / safetensors write it (slowest first).</summary>
    public long[] TorchShape => [.. Dims.Reverse()];

    public string ShapeText => "[" + string.Join(", ", TorchShape) + "]";
}
