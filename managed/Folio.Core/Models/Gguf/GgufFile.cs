using System.IO.MemoryMappedFiles;
using System.Text;

namespace Folio.Core.Models.Gguf;

/// <summary>
/// A llama.cpp GGUF file (version 2 or 3, little-endian), memory-mapped and validated when opened: the magic,
/// every metadata key and value (string and array lengths bounded by the bytes left), every tensor's
/// dimensions, type (one <see cref="GgmlTypes.IsSupported"/> reads), block-aligned row length, offset
/// alignment and byte range inside the file, and no two tensors overlapping. Any violation is a
/// <see cref="ModelFormatException"/> naming the file and the key or tensor.
/// Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count, metadata (key, u32 type, value),
/// tensor infos (name, u32 dims, u64 ne[dims], u32 type, u64 offset), padding to general.alignment (32),
/// tensor data.
/// </summary>
public sealed class GgufFile : IDisposable
{
    private const uint Magic = 0x46554747;   // "GGUF" read as a little-endian u32
    private const int MaxDims = 4;

    private readonly MemoryMappedFile? _map;
    private readonly long _dataStart;

    public string Path { get; }
    public uint Version { get; }
    public IReadOnlyDictionary<string, object> Metadata { get; }
    public IReadOnlyDictionary<string, GgufTensorInfo> Tensors { get; }

    private GgufFile(string path, uint version, MemoryMappedFile? map, long dataStart, Dictionary<string, object> metadata,
        Dictionary<string, GgufTensorInfo> tensors)
    {
        Path = path;
        Version = version;
        _map = map;
        _dataStart = dataStart;
        Metadata = metadata;
        Tensors = tensors;
    }

    public static GgufFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new ModelFormatException($"{path}: GGUF data is read as little-endian; this host is not");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot open ({e.Message})");
        }
        using (stream)
        {
            var r = new GgufHeaderReader(stream, path);
            if (r.U32("the magic") != Magic)
                throw new ModelFormatException($"{path}: not a GGUF file (the first 4 bytes are not 'GGUF')");
            uint version = r.U32("the version");
            if (version is not (2 or 3))
                throw new ModelFormatException($"{path}: GGUF version {version} is not supported (2 and 3 are)");
            ulong tensorCount = r.U64("the tensor count");
            ulong kvCount = r.U64("the metadata count");
            // Each entry takes at least 8 bytes: counts beyond the file are a corrupt or truncated header.
            if (tensorCount > (ulong)r.Remaining / 8 || kvCount > (ulong)r.Remaining / 8)
                throw new ModelFormatException($"{path}: truncated: header counts {tensorCount} tensors and {kvCount} metadata entries, more than the file holds");
            var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
            for (ulong i = 0; i < kvCount; i++)
            {
                string key = r.String("a metadata key");
                if (!metadata.TryAdd(key, r.Value(key)))
                    throw new ModelFormatException($"{path}: metadata key '{key}' appears twice");
            }
            var infos = new List<(string Name, GgmlType Type, long[] Dims, ulong Offset)>();
            for (ulong i = 0; i < tensorCount; i++)
            {
                string name = r.String("a tensor name");
                uint dims = r.U32($"tensor '{name}': the dimension count");
                if (dims is 0 or > MaxDims)
                    throw new ModelFormatException($"{path}: tensor '{name}' has {dims} dimensions (1..{MaxDims} allowed)");
                var ne = new long[dims];
                for (int d = 0; d < dims; d++)
                {
                    ulong n = r.U64($"tensor '{name}': dimension {d}");
                    if (n == 0 || n > int.MaxValue)
                        throw new ModelFormatException($"{path}: tensor '{name}' has dimension {d} = {n}");
                    ne[d] = (long)n;
                }
                var type = (GgmlType)r.U32($"tensor '{name}': the type");
                ulong offset = r.U64($"tensor '{name}': the offset");
                infos.Add((name, type, ne, offset));
            }
            long alignment = AlignmentOf(path, metadata);
            long dataStart = (r.Position + alignment - 1) / alignment * alignment;
            long fileLength = stream.Length;
            var tensors = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
            foreach (var (name, type, ne, offset) in infos)
            {
                var info = Check(path, name, type, ne, offset, alignment, fileLength - dataStart);
                if (!tensors.TryAdd(name, info))
                    throw new ModelFormatException($"{path}: tensor '{name}' appears twice");
            }
            CheckNoOverlap(path, tensors.Values);
            MemoryMappedFile? map = fileLength > dataStart
                ? MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read)
                : null;
            return new GgufFile(path, version, map, dataStart, metadata, tensors);
        }
    }

    private static long AlignmentOf(string path, Dictionary<string, object> metadata)
    {
        if (!metadata.TryGetValue("general.alignment", out object? value))
            return 32;
        if (value is not long a || a <= 0 || (a & (a - 1)) != 0 || a > 1 << 20)
            throw new ModelFormatException($"{path}: metadata 'general.alignment' must be a power of two, is {value}");
        return a;
    }

    private static GgufTensorInfo Check(string path, string name, GgmlType type, long[] ne, ulong offset, long alignment, long dataLength)
    {
        string where = $"{path}: tensor '{name}'";
        if (!GgmlTypes.TryBlock(type, out int blockElements, out int blockBytes))
            throw new ModelFormatException($"{where} has type {GgmlTypes.Name(type)}, which Folio does not read ({GgmlTypes.SupportedNames})");
        if (ne[0] % blockElements != 0)
            throw new ModelFormatException($"{where}: row length {ne[0]} is not a multiple of {GgmlTypes.Name(type)}'s block of {blockElements}");
        long elements = 1;
        foreach (long d in ne)
            elements = elements > long.MaxValue / d ? throw new ModelFormatException($"{where}: too many elements") : elements * d;
        long bytes = elements / blockElements * blockBytes;
        if (offset % (ulong)alignment != 0)
            throw new ModelFormatException($"{where}: offset {offset} is not a multiple of the alignment {alignment}");
        if (offset > (ulong)dataLength || bytes > dataLength - (long)offset)
            throw new ModelFormatException($"{where}: bytes [{offset}, {offset + (ulong)bytes}) run past the end of the data ({dataLength} bytes; file truncated?)");
        return new GgufTensorInfo(name, type, ne, (long)offset, bytes);
    }

    private static void CheckNoOverlap(string path, IEnumerable<GgufTensorInfo> tensors)
    {
        GgufTensorInfo? previous = null;
        foreach (var t in tensors.OrderBy(t => t.Offset).ThenBy(t => t.Name, StringComparer.Ordinal))
        {
            if (previous is not null && t.Offset < previous.Offset + previous.ByteLength)
                throw new ModelFormatException($"{path}: tensors '{previous.Name}' and '{t.Name}' overlap");
            previous = t;
        }
    }

    /// <summary>Dequantizes tensor <paramref name="info"/> into <paramref name="destination"/> (its element count),
    /// in ggml's element order (fastest dimension first); a block whose value is not finite is refused naming the tensor.</summary>
    public void ReadFloat32(GgufTensorInfo info, Span<float> destination)
    {
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"destination holds {destination.Length} floats, tensor '{info.Name}' has {info.ElementCount}");
        GgmlTypes.TryBlock(info.Type, out int blockElements, out int blockBytes);
        using var view = _map!.CreateViewStream(_dataStart + info.Offset, info.ByteLength, MemoryMappedFileAccess.Read);
        // Whole blocks through a bounded buffer, so a large tensor never needs its bytes copied whole.
        int blocksPerChunk = Math.Max(1, (1 << 20) / blockBytes);
        var buffer = new byte[blocksPerChunk * blockBytes];
        long blocks = info.ElementCount / blockElements;
        for (long b = 0; b < blocks; b += blocksPerChunk)
        {
            int n = (int)Math.Min(blocksPerChunk, blocks - b);
            var bytes = buffer.AsSpan(0, n * blockBytes);
            view.ReadExactly(bytes);
            var values = destination.Slice((int)(b * blockElements), n * blockElements);
            GgufDequantize.Blocks(info.Type, bytes, values);
            // A block type's values are finite products of finite fields: anything else is a corrupt scale or min.
            if (blockElements > 1 && values.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue) is int bad and >= 0)
                throw new ModelFormatException($"{Path}: tensor '{info.Name}': block {b + bad / blockElements} of {GgmlTypes.Name(info.Type)} gives {values[bad]} (a non-finite scale or min: corrupt file?)");
        }
    }

    /// <summary>Tensor <paramref name="info"/>'s bytes as stored (its blocks, unchanged) into <paramref name="destination"/>.</summary>
    public void ReadBytes(GgufTensorInfo info, Span<byte> destination)
    {
        if (destination.Length != info.ByteLength)
            throw new ArgumentException($"destination holds {destination.Length} bytes, tensor '{info.Name}' has {info.ByteLength}");
        ReadBytes(info, 0, destination);
    }

    /// <summary>Bytes [<paramref name="offset"/>, offset + destination.Length) of tensor <paramref name="info"/> as
    /// stored, so that a large tensor can be converted a piece at a time.</summary>
    public void ReadBytes(GgufTensorInfo info, long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > info.ByteLength || destination.Length > info.ByteLength - offset)
            throw new ArgumentException($"bytes [{offset}, {offset + destination.Length}) are outside tensor '{info.Name}' ({info.ByteLength} bytes)");
        using var view = _map!.CreateViewStream(_dataStart + info.Offset + offset, destination.Length, MemoryMappedFileAccess.Read);
        view.ReadExactly(destination);
    }

    public string? GetString(string key) => Metadata.TryGetValue(key, out var v) ? v as string ?? throw Wrong(key, "a string", v) : null;

    public long? GetInteger(string key) => Metadata.TryGetValue(key, out var v) ? v as long? ?? throw Wrong(key, "an integer", v) : null;

    public double? GetNumber(string key) => Metadata.TryGetValue(key, out var v)
        ? v switch { double d => d, long l => l, _ => throw Wrong(key, "a number", v) }
        : null;

    public T[]? GetArray<T>(string key) => Metadata.TryGetValue(key, out var v) ? v as T[] ?? throw Wrong(key, $"an array of {typeof(T).Name}", v) : null;

    private ModelFormatException Wrong(string key, string expected, object value) =>
        new($"{Path}: metadata '{key}' must be {expected}, is {(value is Array a ? $"an array of {a.GetType().GetElementType()!.Name}" : value.GetType().Name)}");

    public void Dispose() => _map?.Dispose();
}
