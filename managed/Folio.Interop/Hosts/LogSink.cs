using System.Text;
using Folio.Interop.Abi;

namespace Folio.Interop.Hosts;

/// <summary>The engine's log callback (folio_engine_params.log_callback) with its level filter.</summary>
public sealed unsafe class LogSink
{
    private readonly delegate* unmanaged<int, byte*, ulong, void*, void> _callback;
    private readonly void* _userData;
    private readonly FolioLogLevel _minLevel;

    public LogSink(delegate* unmanaged<int, byte*, ulong, void*, void> callback, void* userData, FolioLogLevel minLevel)
    {
        _callback = callback;
        _userData = userData;
        _minLevel = minLevel;
    }

    public static LogSink None { get; } = new(null, null, FolioLogLevel.None);

    public bool IsEnabled(FolioLogLevel level) => _callback != null && level >= _minLevel && level < FolioLogLevel.None;

    /// <summary>Delivers a message when its level is enabled; <paramref name="owner"/> (the engine) is marked as
    /// being in a callback on this thread meanwhile.</summary>
    public void Write(FolioLogLevel level, string message, object? owner = null)
    {
        if (!IsEnabled(level)) return;
        byte[] utf8 = new byte[Encoding.UTF8.GetByteCount(message) + 1];
        int length = Encoding.UTF8.GetBytes(message, utf8);
        CallbackScope.Exit scope = CallbackScope.Enter(owner ?? this);
        fixed (byte* p = utf8)
        {
            try { _callback((int)level, p, (ulong)length, _userData); }
            finally { scope.Dispose(); }
        }
    }
}
