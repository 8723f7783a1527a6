using System.Buffers.Binary;
using System.Text;

namespace Folio.Core.Models.Gguf;

/// <summary>Reads a GGUF header's little-endian fields from a stream, every length checked against the bytes
/// left, so that a truncated or hostile file is a <see cref="ModelFormatException"/> naming what was being read.
/// Metadata values become long (integers), double (Float64), float (Float32), bool, string, or an array of one
/// of those (nested arrays are refused).</summary>
internal sealed class GgufHeaderReader(Stream stream, string path)
{
    private readonly byte[] _scratch = new byte[8];

    public long Position => stream.Position;
    public long Remaining => stream.Length - stream.Position;

    private ReadOnlySpan<byte> Take(int n, string what)
    {
        if (Remaining < n)
            throw new ModelFormatException($"{path}: truncated while reading {what}");
        stream.ReadExactly(_scratch.AsSpan(0, n));
        return _scratch.AsSpan(0, n);
    }

    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public string String(string what)
    {
        ulong length = U64(what);
        if (length > (ulong)Remaining || length > int.MaxValue)
            throw new ModelFormatException($"{path}: truncated: {what} claims {length} bytes, {Remaining} are left");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ModelFormatException($"{path}: {what} is not valid UTF-8");
        }
    }

    public object Value(string key)
    {
        var type = (GgufValueType)U32($"metadata '{key}': the type");
        if (type != GgufValueType.Array)
            return Scalar(type, key);
        var elementType = (GgufValueType)U32($"metadata '{key}': the array's element type");
        ulong count = U64($"metadata '{key}': the array length");
        int minBytes = elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.String or GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
            _ => throw new ModelFormatException($"{path}: metadata '{key}' is an array of {ElementName(elementType)}, which GGUF readers do not accept"),
        };
        if (count > (ulong)Remaining / (ulong)minBytes)
            throw new ModelFormatException($"{path}: truncated: metadata '{key}' claims {count} elements, more than the {Remaining} bytes left");
        int n = (int)count;
        string what = $"metadata '{key}'";
        switch (elementType)
        {
            case GgufValueType.String:
            {
                var a = new string[n];
                for (int i = 0; i < n; i++)
                    a[i] = String(what);
                return a;
            }
            case GgufValueType.Float32:
            {
                var a = new float[n];
                for (int i = 0; i < n; i++)
                    a[i] = BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));
                return a;
            }
            case GgufValueType.Float64:
            {
                var a = new double[n];
                for (int i = 0; i < n; i++)
                    a[i] = BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));
                return a;
            }
            case GgufValueType.Bool:
            {
                var a = new bool[n];
                for (int i = 0; i < n; i++)
                    a[i] = Take(1, what)[0] != 0;
                return a;
            }
            default:
            {
                var a = new long[n];
                for (int i = 0; i < n; i++)
                    a[i] = (long)Scalar(elementType, key);
                return a;
            }
        }
    }

    private object Scalar(GgufValueType type, string key)
    {
        string what = $"metadata '{key}'";
        return type switch
        {
            GgufValueType.UInt8 => (long)Take(1, what)[0],
            GgufValueType.Int8 => (long)(sbyte)Take(1, what)[0],
            GgufValueType.UInt16 => (long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what)),
            GgufValueType.Int16 => (long)BinaryPrimitives.ReadInt16LittleEndian(Take(2, what)),
            GgufValueType.UInt32 => (long)U32(what),
            GgufValueType.Int32 => (long)BinaryPrimitives.ReadInt32LittleEndian(Take(4, what)),
            GgufValueType.UInt64 => Signed(U64(what), what),
            GgufValueType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what)),
            GgufValueType.Float32 => (double)BinaryPrimitives.ReadSingleLittleEndian(Take(4, what)),
            GgufValueType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what)),
            GgufValueType.Bool => Take(1, what)[0] != 0,
            GgufValueType.String => String(what),
            _ => throw new ModelFormatException($"{path}: {what} has value type {ElementName(type)}"),
        };
    }

    private long Signed(ulong value, string what) => value <= long.MaxValue ? (long)value
        : throw new ModelFormatException($"{path}: {what} = {value} does not fit a signed 64-bit integer");

    private static string ElementName(GgufValueType t) => Enum.IsDefined(t) ? t.ToString() : $"unknown type {(uint)t}";
}
