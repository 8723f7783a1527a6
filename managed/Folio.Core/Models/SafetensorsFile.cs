using System.Buffers;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Folio.Core.Models;

/// <summary>
/// A memory-mapped <c>.safetensors</c> file, validated when opened: an 8-byte little-endian header length that
/// fits the file, a JSON header, known dtypes, shape × dtype size = byte length, and data ranges inside the file
/// that do not overlap. Any violation is a <see cref="ModelFormatException"/> naming the file and tensor.
/// Reads convert F32/F16/BF16 to fp32 (through a short-lived view of the tensor, so its pages leave the process's
/// resident set when the read is done); <see cref="Map"/> hands out a tensor in place instead, on one read-only
/// view of the whole file made on first use. Layout: [u64 n][n bytes JSON][data], offsets relative to the data.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Headers above this are refused (real ones are kilobytes; this bounds a hostile length).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private readonly MemoryMappedFile? _map;
    private readonly Dictionary<string, TensorInfo> _tensors;
    private readonly long _dataStart;
    private MemoryMappedViewAccessor? _view;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, MemoryMappedFile? map, long dataStart,
        Dictionary<string, TensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _dataStart = dataStart;
        _tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Opens, maps and validates <paramref name="path"/>.</summary>
    public static SafetensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new ModelFormatException($"{path}: safetensors data is little-endian; this host is not");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot open ({e.Message})");
        }
        using (stream)
        {
            long fileLength = stream.Length;
            if (fileLength < 8)
                throw new ModelFormatException($"{path}: truncated: {fileLength} bytes, shorter than the 8-byte header length");
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength > (ulong)(fileLength - 8))
                throw new ModelFormatException($"{path}: truncated: the header claims {headerLength} bytes but only {fileLength - 8} follow");
            if (headerLength > MaxHeaderBytes)
                throw new ModelFormatException($"{path}: header of {headerLength} bytes exceeds the {MaxHeaderBytes}-byte limit");
            var header = new byte[headerLength];
            stream.ReadExactly(header);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(path, header, fileLength - dataStart);
            // An empty data section cannot be mapped (zero-length map); such a file has only empty tensors.
            MemoryMappedFile? map = fileLength > dataStart
                ? MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read)
                : null;
            return new SafetensorsFile(path, map, dataStart, tensors, metadata);
        }
    }

    private static (Dictionary<string, TensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: the header is not valid JSON ({e.Message})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{path}: the header must be a JSON object");
            var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new ModelFormatException($"{path}: '__metadata__' must be an object of strings");
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                tensors[property.Name] = ParseTensor(path, property.Name, property.Value, dataLength);
            }
            CheckNoOverlap(path, tensors.Values);
            return (tensors, metadata);
        }
    }

    private static TensorInfo ParseTensor(string path, string name, JsonElement e, long dataLength)
    {
        string where = $"{path}: tensor '{name}'";
        if (e.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{where}: entry must be an object with dtype, shape and data_offsets");
        if (!e.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new ModelFormatException($"{where}: field 'dtype' is missing or not a string");
        string dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
            throw new ModelFormatException($"{where}: field 'dtype' '{dtypeName}' is not a safetensors dtype");
        long[] shape = ReadLongs(e, "shape", where, -1);
        long[] offsets = ReadLongs(e, "data_offsets", where, 2);
        // The size is checked for overflow here, so that a hostile header is a load error naming the tensor
        // rather than an OverflowException (which the C ABI reports as an internal error).
        long elements = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                throw new ModelFormatException($"{where}: field 'shape' has a negative dimension");
            if (d != 0 && elements > long.MaxValue / d)
                throw new ModelFormatException($"{where}: field 'shape' [{string.Join(", ", shape)}] has more elements than a 64-bit count holds");
            elements *= d;
        }
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin)
            throw new ModelFormatException($"{where}: field 'data_offsets' [{begin}, {end}] is not an increasing range");
        if (end > dataLength)
            throw new ModelFormatException($"{where}: field 'data_offsets' [{begin}, {end}] runs past the end of the data ({dataLength} bytes; file truncated?)");
        if (elements > long.MaxValue / dtype.SizeBytes())
            throw new ModelFormatException($"{where}: field 'shape' [{string.Join(", ", shape)}] × {dtypeName} is more bytes than a 64-bit size holds");
        long expected = elements * dtype.SizeBytes();
        if (end - begin != expected)
            throw new ModelFormatException(
                $"{where}: shape [{string.Join(", ", shape)}] × {dtypeName} is {expected} bytes but data_offsets span {end - begin}");
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] ReadLongs(JsonElement e, string field, string where, int exactCount)
    {
        if (!e.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"{where}: field '{field}' is missing or not an array");
        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v))
                throw new ModelFormatException($"{where}: field '{field}' must hold integers");
            values.Add(v);
        }
        if (exactCount >= 0 && values.Count != exactCount)
            throw new ModelFormatException($"{where}: field '{field}' must hold {exactCount} integers, holds {values.Count}");
        return [.. values];
    }

    private static void CheckNoOverlap(string path, IEnumerable<TensorInfo> tensors)
    {
        TensorInfo? previous = null;
        foreach (var t in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.DataBegin).ThenBy(t => t.Name, StringComparer.Ordinal))
        {
            if (previous is not null && t.DataBegin < previous.DataEnd)
                throw new ModelFormatException(
                    $"{path}: tensors '{previous.Name}' [{previous.DataBegin}, {previous.DataEnd}) and '{t.Name}' [{t.DataBegin}, {t.DataEnd}) overlap");
            previous = t;
        }
    }

    /// <summary>Converts tensor <paramref name="name"/> to fp32 into <paramref name="destination"/>
    /// (exactly its element count).</summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        if (!_tensors.TryGetValue(name, out var info))
            throw new ModelFormatException($"{Path}: tensor '{name}' is missing");
        ReadFloat32(info, destination);
    }

    public void ReadFloat32(TensorInfo info, Span<float> destination)
    {
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"destination holds {destination.Length} floats, tensor '{info.Name}' has {info.ElementCount}");
        ReadFloat32(info, 0, destination);
    }

    /// <summary>Converts elements [firstElement, firstElement + destination.Length) of the tensor to fp32 (a range
    /// of rows, for loaders that stream a large tensor in pieces).</summary>
    public void ReadFloat32(TensorInfo info, long firstElement, Span<float> destination)
    {
        if (!info.DType.IsFloatWeight())
            throw new ModelFormatException($"{Path}: tensor '{info.Name}' has dtype {info.DType}; weights must be F32, F16 or BF16");
        if (firstElement < 0 || firstElement + destination.Length > info.ElementCount)
            throw new ArgumentException($"elements [{firstElement}, {firstElement + destination.Length}) are outside tensor '{info.Name}' ({info.ElementCount})");
        if (destination.Length == 0)
            return;
        int size = info.DType.SizeBytes();
        using var view = _map!.CreateViewStream(_dataStart + info.DataBegin + firstElement * size, (long)destination.Length * size,
            MemoryMappedFileAccess.Read);
        if (info.DType == SafetensorsDType.F32)
        {
            view.ReadExactly(MemoryMarshal.AsBytes(destination));
            return;
        }
        // 16-bit types: convert through a bounded buffer, so a large tensor never needs a second full copy.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int done = 0;
            while (done < destination.Length)
            {
                int count = Math.Min(destination.Length - done, buffer.Length / 2);
                var bytes = buffer.AsSpan(0, count * 2);
                view.ReadExactly(bytes);
                var halves = MemoryMarshal.Cast<byte, ushort>(bytes);
                var dst = destination.Slice(done, count);
                if (info.DType == SafetensorsDType.BF16)
                    for (int i = 0; i < count; i++)
                        dst[i] = BitConverter.Int32BitsToSingle(halves[i] << 16);
                else
                    for (int i = 0; i < count; i++)
                        dst[i] = (float)BitConverter.UInt16BitsToHalf(halves[i]);
                done += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Tensor <paramref name="info"/> (F32, F16 or BF16, one or two dimensions) in place: its bytes in the
    /// file's read-only mapping, no copy. The returned tensor holds the mapping open past this file's
    /// <see cref="Dispose"/>, until it is disposed itself.</summary>
    public MappedTensor Map(TensorInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var dtype = info.DType switch
        {
            SafetensorsDType.F32 => Compute.DType.F32,
            SafetensorsDType.F16 => Compute.DType.F16,
            SafetensorsDType.BF16 => Compute.DType.BF16,
            _ => throw new ModelFormatException($"{Path}: tensor '{info.Name}' has dtype {info.DType}; weights must be F32, F16 or BF16"),
        };
        if (info.Shape.Length is < 1 or > 2 || info.ByteLength == 0)
            throw new ArgumentException($"tensor '{info.Name}' {info.ShapeText} is not a non-empty matrix or vector");
        ObjectDisposedException.ThrowIf(_map is null, this);
        // One view of the whole file (address space only; pages come in as they are touched). Offset 0, so its
        // handle's address is the file's first byte.
        _view ??= _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        if (_view.PointerOffset != 0)
            throw new InvalidOperationException($"{Path}: a view at offset 0 starts {_view.PointerOffset} bytes into its mapping");
        long rows = info.Shape.Length == 2 ? info.Shape[0] : 1;
        return new MappedTensor(info.Name, _view.SafeMemoryMappedViewHandle, _dataStart + info.DataBegin, dtype, rows, info.Shape[^1]);
    }

    /// <summary>Closes the file; mapped tensors still alive keep their pages mapped until they are disposed.</summary>
    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
    }
}
