using System.Runtime.InteropServices;

namespace Folio.Cuda.Backend;

/// <summary>
/// Host arrays gathered into one pinned staging buffer and copied to the device in one transfer: a step's metadata,
/// a sampler's per-row parameters. <see cref="Reserve"/> plans the layout, <see cref="Put"/> fills it,
/// <see cref="Commit"/> enqueues the copy. Both buffers are kept for the largest upload seen (stable addresses).
/// The caller must not refill before the stream has passed the previous copy (the backend synchronises once per
/// step, when the sampled ids come back).
/// </summary>
internal sealed class StagedUpload(CudaStream stream) : IDisposable
{
    private const int Align = 16;
    private PinnedHostBuffer? _host;
    private DeviceBuffer? _device;
    private long _bytes;

    /// <summary>Bumped whenever the buffers are reallocated (their addresses change).</summary>
    public long Generation { get; private set; }

    /// <summary>Starts a new layout.</summary>
    public void Clear() => _bytes = 0;

    /// <summary>Room for <paramref name="count"/> elements of <typeparamref name="T"/>; returns their offset.</summary>
    public unsafe long Reserve<T>(long count) where T : unmanaged
    {
        long at = _bytes;
        _bytes += (count * sizeof(T) + Align - 1) / Align * Align;
        return at;
    }

    /// <summary>Sizes the buffers for the layout reserved so far (call after the last Reserve, before Put).</summary>
    public void Allocate()
    {
        long bytes = Math.Max(_bytes, Align);
        if (_host is not null && _host.Bytes >= bytes)
            return;
        stream.Synchronize();   // a copy from the old staging buffer may still be pending
        long capacity = Math.Max(bytes, 2 * (_host?.Bytes ?? 0));
        _host?.Dispose();
        _device?.Dispose();
        _host = PinnedHostBuffer.Allocate(capacity);
        _device = DeviceBuffer.Allocate(capacity);
        Generation++;
    }

    /// <summary>The staging memory of the elements reserved at <paramref name="offset"/>.</summary>
    public Span<T> Put<T>(long offset, int count) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(_host!.AsSpan<byte>()[(int)offset..])[..count];

    public void Put<T>(long offset, ReadOnlySpan<T> values) where T : unmanaged => values.CopyTo(Put<T>(offset, values.Length));

    /// <summary>Enqueues the copy of everything reserved; returns the device address of offset 0.</summary>
    public nint Commit()
    {
        NativeBuffer.CopyAsync(_device!, 0, _host!, 0, Math.Max(_bytes, Align), stream);
        return _device!.Pointer;
    }

    public void Dispose()
    {
        _host?.Dispose();
        _device?.Dispose();
    }
}
