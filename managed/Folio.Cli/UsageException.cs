namespace Folio.Cli;

/// <summary>Bad user input found while running a command; printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
