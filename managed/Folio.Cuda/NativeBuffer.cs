using System.Runtime.InteropServices;

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
}
