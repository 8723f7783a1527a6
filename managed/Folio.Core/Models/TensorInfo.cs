namespace Folio.Core.Models;

/// <summary>One tensor of a safetensors file: element type, shape, and its byte range in the data section.</summary>
public sealed record TensorInfo(string Name, SafetensorsDType DType, long[] Shape, long DataBegin, long DataEnd)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteLength => DataEnd - DataBegin;
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
