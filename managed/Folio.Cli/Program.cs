using System.CommandLine;

namespace Folio.Cli;

/// <summary>The <c>folio</c> command: one subcommand per file, registered here.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Folio: an LLM serving engine built on PagedAttention.");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(SimulateCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ModelInitCommand.Create());
        root.Subcommands.Add(LogitsCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                Console.Error.WriteLine($"error: {error.Message}");
            return ExitCodes.Usage;
        }
        try
        {
            // The library's default handler would print UsageException with its stack trace and exit 1;
            // switched off, bad input reaches the catch below (exit 2) and a bug still crashes loudly.
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            // Bad input is the user's to fix: a clear message, no stack trace.
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
    }
}
