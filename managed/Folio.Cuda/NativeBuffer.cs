using System.Runtime.InteropServices;
using Folio.Cuda.Native;

namespace Folio.Cuda;

/// <summary>
/// A sized allocation of the CUDA library (device or pinned host memory) that the subclass releases. A zero-byte
/// buffer holds no memory (its pointer is null) and is valid.
/// </summary>
public abstract class NativeBuffer : SafeHandle
{
    private protected NativeBuffer(nint pointer, long bytes) : base(0, ownsHandle: true)
    {
        SetHandle(pointer);
        Bytes = bytes;
    }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    public override bool IsInvalid => handle == 0 && Bytes != 0;

    /// <summary>The address, for launchers and copies; valid while this buffer is alive (hold it across the call).</summary>
    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>Copies <paramref name="bytes"/> from <paramref name="source"/> at <paramref name="sourceOffset"/> to
    /// <paramref name="destination"/> at <paramref name="destinationOffset"/> in <paramref name="stream"/>'s order,
    /// without waiting (either side device or pinned host memory): the source must stay as it is, and the destination
    /// unread on the host, until the stream reaches the copy.</summary>
    public static unsafe void CopyAsync(NativeBuffer destination, long destinationOffset, NativeBuffer source, long sourceOffset,
        long bytes, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(stream);
        if (bytes < 0 || destinationOffset < 0 || sourceOffset < 0 || destinationOffset > destination.Bytes - bytes ||
            sourceOffset > source.Bytes - bytes)
            throw new ArgumentOutOfRangeException(nameof(bytes),
                $"{bytes} bytes from offset {sourceOffset} of {source.Bytes} to offset {destinationOffset} of {destination.Bytes}");
        if (bytes == 0)
            return;
        FolioCudaException.Check(FolioCudaNative.MemcpyAsync((byte*)destination.Pointer + destinationOffset,
            (byte*)source.Pointer + sourceOffset, (nuint)bytes, (void*)stream.Pointer));
    }
}
