namespace Folio.Cli.Tests;

/// <summary>Runs <c>folio</c> in-process with its console captured (tests in this assembly run one at a time).</summary>
internal static class CliRun
{
    public static (int ExitCode, string Out, string Error) Folio(params string[] args)
    {
        TextWriter oldOut = Console.Out, oldError = Console.Error;
        var output = new StringWriter();
        var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int code = Program.Main(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}
