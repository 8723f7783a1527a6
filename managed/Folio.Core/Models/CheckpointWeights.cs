using System.Text.Json;

namespace Folio.Core.Models;

/// <summary>
/// The weights of a model folder: <c>model.safetensors</c>, or the shards listed by
/// <c>model.safetensors.index.json</c>. Every file is opened and validated up front; a tensor listed in the
/// index but absent from its shard is an error at open, not at first use.
/// </summary>
public sealed class CheckpointWeights : IWeightSource, IDisposable
{
    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, TensorInfo Info)> _byName;

    public string Folder { get; }
    public IEnumerable<string> Names => _byName.Keys;

    private CheckpointWeights(string folder, List<SafetensorsFile> files,
        Dictionary<string, (SafetensorsFile, TensorInfo)> byName)
    {
        Folder = folder;
        _files = files;
        _byName = byName;
    }

    public static CheckpointWeights Open(string folder)
    {
        string index = Path.Combine(folder, "model.safetensors.index.json");
        string single = Path.Combine(folder, "model.safetensors");
        var files = new List<SafetensorsFile>();
        var byName = new Dictionary<string, (SafetensorsFile, TensorInfo)>(StringComparer.Ordinal);
        try
        {
            if (File.Exists(index))
            {
                var map = ReadIndex(index);
                var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
                foreach (var (tensor, shard) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (shard.Contains('/') || shard.Contains('\\') || shard == "..")
                        throw new ModelFormatException($"{index}: weight_map['{tensor}'] = '{shard}' must be a file name in the folder");
                    if (!opened.TryGetValue(shard, out var file))
                    {
                        string shardPath = Path.Combine(folder, shard);
                        if (!File.Exists(shardPath))
                            throw new ModelFormatException($"{index}: shard '{shard}' (of tensor '{tensor}') does not exist");
                        file = SafetensorsFile.Open(shardPath);
                        files.Add(file);
                        opened[shard] = file;
                    }
                    if (!file.Tensors.TryGetValue(tensor, out var info))
                        throw new ModelFormatException($"{index}: tensor '{tensor}' is mapped to '{shard}', which does not contain it");
                    byName[tensor] = (file, info);
                }
            }
            else if (File.Exists(single))
            {
                var file = SafetensorsFile.Open(single);
                files.Add(file);
                foreach (var (name, info) in file.Tensors)
                    byName[name] = (file, info);
            }
            else
            {
                throw new ModelFormatException($"{folder}: no model.safetensors or model.safetensors.index.json");
            }
        }
        catch
        {
            foreach (var f in files)
                f.Dispose();
            throw;
        }
        return new CheckpointWeights(folder, files, byName);
    }

    private static Dictionary<string, string> ReadIndex(string index)
    {
        try
        {
            var parsed = JsonSerializer.Deserialize(File.ReadAllText(index), ModelJsonContext.Default.SafetensorsIndexJson);
            return parsed?.WeightMap ?? throw new ModelFormatException($"{index}: field 'weight_map' is missing");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{index}: field '{e.Path}' is malformed ({e.Message})");
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public TensorInfo Info(string name) =>
        _byName.TryGetValue(name, out var entry)
            ? entry.Info
            : throw new ModelFormatException($"{Folder}: tensor '{name}' is missing from the checkpoint");

    /// <summary>BF16 and F16 tensors are 16-bit; everything else reads as fp32.</summary>
    public Compute.DType StoredType(string name) =>
        _byName.TryGetValue(name, out var entry) ? entry.Info.DType switch
        {
            SafetensorsDType.BF16 => Compute.DType.BF16,
            SafetensorsDType.F16 => Compute.DType.F16,
            _ => Compute.DType.F32,
        } : Compute.DType.F32;

    /// <summary>Reads tensor <paramref name="name"/> as fp32 into <paramref name="destination"/> after checking its
    /// shape is <paramref name="expectedShape"/> (the config's view of it).</summary>
    public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination)
    {
        var entry = Checked(name, expectedShape);
        entry.File.ReadFloat32(entry.Info, destination);
    }

    /// <summary>An F32, F16 or BF16 tensor in place (shape checked as by <see cref="Read"/>); null for other dtypes.</summary>
    public MappedTensor? Map(string name, ReadOnlySpan<long> expectedShape)
    {
        var entry = Checked(name, expectedShape);
        return entry.Info.DType.IsFloatWeight() && entry.Info.ByteLength > 0 ? entry.File.Map(entry.Info) : null;
    }

    public bool ReadsRows => true;

    public void ReadRows(string name, ReadOnlySpan<long> expectedShape, long firstRow, Span<float> destination)
    {
        var entry = Checked(name, expectedShape);
        long cols = expectedShape[^1];
        if (cols == 0 || destination.Length % cols != 0)
            throw new ArgumentException($"{destination.Length} floats are not whole rows of {cols}");
        entry.File.ReadFloat32(entry.Info, firstRow * cols, destination);
    }

    private (SafetensorsFile File, TensorInfo Info) Checked(string name, ReadOnlySpan<long> expectedShape)
    {
        if (!_byName.TryGetValue(name, out var entry))
            throw new ModelFormatException($"{Folder}: tensor '{name}' is missing from the checkpoint");
        if (!entry.Info.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new ModelFormatException(
                $"{entry.File.Path}: tensor '{name}' has shape {entry.Info.ShapeText}, config.json implies [{string.Join(", ", expectedShape.ToArray())}]");
        return entry;
    }

    public void Dispose()
    {
        foreach (var f in _files)
            f.Dispose();
    }
}
