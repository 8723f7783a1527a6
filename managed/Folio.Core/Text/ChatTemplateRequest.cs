using Folio.Core.Text.Jinja;

namespace Folio.Core.Text;

/// <summary>
/// The inputs of one chat-template rendering: the conversation, optional tool definitions and documents,
/// whether to open an assistant turn, and extra variables (e.g. <c>enable_thinking</c>). <see cref="TemplateName"/>
/// picks one of a model's named templates (default: <c>tool_use</c> when tools are given and it exists, else
/// <c>default</c>).
/// </summary>
public sealed record ChatTemplateRequest
{
    public required JinjaValue Messages { get; init; }
    public JinjaValue? Tools { get; init; }
    public JinjaValue? Documents { get; init; }
    public bool AddGenerationPrompt { get; init; }
    public string? TemplateName { get; init; }
    public IReadOnlyList<KeyValuePair<string, JinjaValue>> Extra { get; init; } = [];
}
