namespace Folio.Core.Sampling;

/// <summary>
/// A request's structured output, as vLLM's <c>structured_outputs</c> field: exactly one of a JSON schema, a
/// regular expression, a choice among strings, a GBNF grammar, or any JSON object. The engine compiles it at
/// admission through its <see cref="ITokenConstraintFactory"/> and masks every token the output could not continue
/// with; the sequence finishes (reason Stop) when the output is complete and nothing may follow.
/// </summary>
public sealed record StructuredOutputs
{
    /// <summary>A JSON Schema (its text): the output is one JSON value that validates against it.</summary>
    public string? Json { get; init; }

    /// <summary>A regular expression the whole output matches.</summary>
    public string? Regex { get; init; }

    /// <summary>The output is exactly one of these strings.</summary>
    public IReadOnlyList<string>? Choice { get; init; }

    /// <summary>A grammar in llama.cpp's GBNF format (start rule <c>root</c>).</summary>
    public string? Grammar { get; init; }

    /// <summary>Any JSON object (OpenAI's <c>response_format: json_object</c>).</summary>
    public bool JsonObject { get; init; }

    /// <summary>Which of the fields is set (valid only after <see cref="Validate"/>).</summary>
    public StructuredOutputKind Kind =>
        Json is not null ? StructuredOutputKind.Json
        : Regex is not null ? StructuredOutputKind.Regex
        : Choice is not null ? StructuredOutputKind.Choice
        : Grammar is not null ? StructuredOutputKind.Grammar
        : JsonObject ? StructuredOutputKind.JsonObject
        : StructuredOutputKind.None;

    /// <summary>Throws an <see cref="ArgumentException"/> (parameter <c>StructuredOutputs</c>) unless exactly one
    /// field is set and it is usable; what the text means is checked when it compiles.</summary>
    public void Validate()
    {
        int set = (Json is not null ? 1 : 0) + (Regex is not null ? 1 : 0) + (Choice is not null ? 1 : 0)
            + (Grammar is not null ? 1 : 0) + (JsonObject ? 1 : 0);
        if (set != 1)
            throw Bad($"structured_outputs must set exactly one of json, regex, choice, grammar, json_object; {set} are set.");
        if (Json is { Length: 0 })
            throw Bad("structured_outputs.json must be a non-empty JSON schema.");
        if (Grammar is { Length: 0 })
            throw Bad("structured_outputs.grammar must be a non-empty GBNF grammar.");
        if (Choice is not null)
        {
            if (Choice.Count == 0)
                throw Bad("structured_outputs.choice must hold at least one string.");
            for (int i = 0; i < Choice.Count; i++)
            {
                if (string.IsNullOrEmpty(Choice[i]))
                    throw Bad($"structured_outputs.choice[{i}] must be a non-empty string.");
            }
        }
    }

    internal static ArgumentException Bad(string message) => new(message, nameof(SamplingParams.StructuredOutputs));
}

/// <summary>Which field of <see cref="StructuredOutputs"/> is set.</summary>
public enum StructuredOutputKind
{
    None,
    Json,
    Regex,
    Choice,
    Grammar,
    JsonObject,
}
