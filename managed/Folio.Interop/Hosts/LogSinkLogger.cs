using Folio.Interop.Abi;
using Microsoft.Extensions.Logging;

namespace Folio.Interop.Hosts;

/// <summary>
/// The managed engine's <see cref="ILogger"/> delivered to the host's log callback (folio_engine_params.log_callback),
/// so the C ABI reports exactly what a .NET host's logger would receive.
/// </summary>
public sealed class LogSinkLogger(LogSink sink) : ILogger
{
    /// <summary>The handle's object, marked as in a callback while the host's function runs (set once the
    /// host object exists: the engine is created first).</summary>
    public object? Owner { get; set; }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => sink.IsEnabled(ToFolio(logLevel));

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        var level = ToFolio(logLevel);
        if (sink.IsEnabled(level))
            sink.Write(level, formatter(state, exception), Owner);
    }

    private static FolioLogLevel ToFolio(LogLevel level) => level switch
    {
        LogLevel.Trace => FolioLogLevel.Trace,
        LogLevel.Debug => FolioLogLevel.Debug,
        LogLevel.Information => FolioLogLevel.Info,
        LogLevel.Warning => FolioLogLevel.Warn,
        LogLevel.Error or LogLevel.Critical => FolioLogLevel.Error,
        _ => FolioLogLevel.None,
    };
}
