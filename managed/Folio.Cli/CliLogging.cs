using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Folio.Cli;

/// <summary>
/// The CLI's loggers: the engine's warnings (a rejected request, say) and worse go to standard error, one line
/// each, so that standard output stays the command's own (text, tables, JSON). FOLIO_LOG_LEVEL
/// (trace, debug, information, warning, error) lowers or raises the threshold.
/// </summary>
internal static class CliLogging
{
    public static ILoggerFactory CreateFactory()
    {
        var level = Enum.TryParse(Environment.GetEnvironmentVariable("FOLIO_LOG_LEVEL"), ignoreCase: true, out LogLevel parsed)
            ? parsed
            : LogLevel.Warning;
        return LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
    }
}
