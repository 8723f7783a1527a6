using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// The activations of one forward pass, allocated on the backend for the largest step seen so far and resized
/// to each step's rows: a steady stream of steps allocates nothing (and a GPU backend's addresses stay fixed).
/// </summary>
internal sealed class ForwardWorkspace(IComputeBackend backend, ModelConfig config, AttentionShape shape) : IDisposable
{
    private int _rowCapacity = -1;
    private int _logitCapacity = -1;

    // Per token row.
    public DeviceTensor Hidden { get; private set; } = null!;
    public DeviceTensor Scratch { get; private set; } = null!;
    public DeviceTensor Qkv { get; private set; } = null!;
    public DeviceTensor Attention { get; private set; } = null!;
    public DeviceTensor GateUp { get; private set; } = null!;
    public DeviceTensor Activation { get; private set; } = null!;
    // Per logits row.
    public DeviceTensor Last { get; private set; } = null!;
    public DeviceTensor Normed { get; private set; } = null!;
    public DeviceTensor Logits { get; private set; } = null!;

    /// <summary>Sizes every tensor for <paramref name="rows"/> token rows and <paramref name="logitRows"/> logits rows.</summary>
    public void Prepare(int rows, int logitRows)
    {
        if (rows > _rowCapacity)
        {
            DisposeRows();
            Hidden = backend.Allocate(rows, config.HiddenSize);
            Scratch = backend.Allocate(rows, config.HiddenSize);
            Qkv = backend.Allocate(rows, shape.QkvCols);
            Attention = backend.Allocate(rows, shape.QueryCols);
            GateUp = backend.Allocate(rows, 2 * config.IntermediateSize);
            Activation = backend.Allocate(rows, config.IntermediateSize);
            _rowCapacity = rows;
        }
        if (logitRows > _logitCapacity)
        {
            DisposeLogits();
            Last = backend.Allocate(logitRows, config.HiddenSize);
            Normed = backend.Allocate(logitRows, config.HiddenSize);
            Logits = backend.Allocate(logitRows, config.VocabSize);
            _logitCapacity = logitRows;
        }
        foreach (var t in (ReadOnlySpan<DeviceTensor>)[Hidden, Scratch, Qkv, Attention, GateUp, Activation])
            t.Resize(rows);
        foreach (var t in (ReadOnlySpan<DeviceTensor>)[Last, Normed, Logits])
            t.Resize(logitRows);
    }

    private void DisposeRows()
    {
        if (_rowCapacity < 0)
            return;
        Hidden.Dispose(); Scratch.Dispose(); Qkv.Dispose(); Attention.Dispose(); GateUp.Dispose(); Activation.Dispose();
    }

    private void DisposeLogits()
    {
        if (_logitCapacity < 0)
            return;
        Last.Dispose(); Normed.Dispose(); Logits.Dispose();
    }

    public void Dispose()
    {
        DisposeRows();
        DisposeLogits();
        _rowCapacity = _logitCapacity = -1;
    }
}
