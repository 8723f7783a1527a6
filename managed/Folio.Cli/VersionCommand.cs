using System.CommandLine;
using System.Reflection;

namespace Folio.Cli;

/// <summary><c>folio version</c>: prints the engine version.</summary>
public static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the Folio version.");
        command.SetAction(_ =>
        {
            var version = typeof(VersionCommand).Assembly.GetName().Version ?? new Version(0, 0);
            Console.WriteLine($"folio {version.ToString(3)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
