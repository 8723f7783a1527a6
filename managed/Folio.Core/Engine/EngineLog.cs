using Folio.Core.Sampling;
using Microsoft.Extensions.Logging;

namespace Folio.Core.Engine;

/// <summary>
/// The engine's log messages, source-generated: nothing is formatted or boxed unless the level is enabled,
/// so the step loop pays nothing when logging is off.
/// </summary>
internal static partial class EngineLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "request {RequestId} rejected: {Reason}")]
    public static partial void RequestRejected(ILogger logger, long requestId, string? reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "request {RequestId} finished ({Reason})")]
    public static partial void RequestFinished(ILogger logger, long requestId, FinishReason reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "step {Step}: {Count} sequence group(s) preempted for lack of KV blocks ({Total} so far)")]
    public static partial void Preempted(ILogger logger, long step, long count, long total);
}
