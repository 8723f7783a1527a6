using System.CommandLine;
using Folio.Core.Sampling;

namespace Folio.Cli;

/// <summary><c>folio generate</c>'s structured-output options (at most one): --json-schema FILE, --regex, --choice
/// (repeated), --grammar FILE (GBNF), --json-object.</summary>
internal sealed class StructuredOutputOptions
{
    private readonly Option<string?> _jsonSchema = new("--json-schema") { Description = "A JSON Schema file: the output is JSON valid under it." };
    private readonly Option<string?> _regex = new("--regex") { Description = "A regular expression the whole output matches." };
    private readonly Option<string[]> _choice = new("--choice") { Description = "The output is exactly one of these (repeat the option)." };
    private readonly Option<string?> _grammar = new("--grammar") { Description = "A GBNF grammar file (llama.cpp's format, start rule root)." };
    private readonly Option<bool> _jsonObject = new("--json-object") { Description = "The output is a JSON object." };

    public void AddTo(Command command)
    {
        command.Options.Add(_jsonSchema);
        command.Options.Add(_regex);
        command.Options.Add(_choice);
        command.Options.Add(_grammar);
        command.Options.Add(_jsonObject);
    }

    /// <summary>The request's structured output, or null when no option is given; a file that cannot be read is a usage error.</summary>
    public StructuredOutputs? Read(ParseResult r)
    {
        string? schema = r.GetValue(_jsonSchema), grammar = r.GetValue(_grammar);
        string[] choices = r.GetValue(_choice) ?? [];
        var spec = new StructuredOutputs
        {
            Json = schema is null ? null : ReadFile(schema, "--json-schema"),
            Regex = r.GetValue(_regex),
            Choice = choices.Length > 0 ? choices : null,
            Grammar = grammar is null ? null : ReadFile(grammar, "--grammar"),
            JsonObject = r.GetValue(_jsonObject),
        };
        return spec.Kind == StructuredOutputKind.None ? null : spec;
    }

    private static string ReadFile(string path, string option)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option} {path}: {e.Message}");
        }
    }
}
