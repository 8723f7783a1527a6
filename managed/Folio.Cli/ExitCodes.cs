namespace Folio.Cli;

/// <summary>Process exit codes of the <c>folio</c> command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>An unexpected failure (a bug).</summary>
    public const int Failure = 1;
    /// <summary>Bad input: a malformed argument or file; the message names it.</summary>
    public const int Usage = 2;
}
