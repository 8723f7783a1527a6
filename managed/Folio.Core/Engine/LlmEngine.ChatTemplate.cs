using Folio.Core.Text;

namespace Folio.Core.Engine;

/// <summary>The engine's chat template: every host (the C ABI, Python, the HTTP server) renders chats here.</summary>
public sealed partial class LlmEngine
{
    /// <summary>
    /// The model's chat template (<see cref="Models.ModelSource.ChatTemplate"/>), set by whoever builds the engine
    /// from a model; null when the model has none (built-in models, folders without a template).
    /// </summary>
    public ChatTemplate? ChatTemplate { get; init; }

    /// <summary>
    /// Renders a conversation into the prompt text with the model's template, in the JSON form the C ABI takes:
    /// <paramref name="messagesJson"/> a list of messages, <paramref name="toolsJson"/> a list of tool definitions
    /// (or null), <paramref name="optionsJson"/> an object (or null) whose <c>add_generation_prompt</c> (default
    /// false, as transformers' <c>apply_chat_template</c>), <c>documents</c> and <c>template</c> keys are read and
    /// whose other keys become template variables (<c>enable_thinking</c> …). Thread-safe; takes no engine lock.
    /// Throws <see cref="InvalidOperationException"/> when the model has no template (check
    /// <see cref="ChatTemplate"/> first), <see cref="ArgumentException"/> for malformed JSON and
    /// <see cref="Text.Jinja.TemplateException"/> when the template fails (e.g. its own <c>raise_exception</c>).
    /// </summary>
    public string ApplyChatTemplate(string messagesJson, string? toolsJson = null, string? optionsJson = null)
    {
        ArgumentNullException.ThrowIfNull(messagesJson);
        return RequireTemplate().Render(messagesJson, toolsJson, optionsJson);
    }

    /// <summary>As the JSON overload, with the inputs already parsed.</summary>
    public string ApplyChatTemplate(ChatTemplateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RequireTemplate().Render(request);
    }

    private ChatTemplate RequireTemplate() => ChatTemplate
        ?? throw new InvalidOperationException("this model has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja)");
}
