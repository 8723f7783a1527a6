using System.Text.Json;
using Folio.Core.Models;
using Folio.Core.Text.Jinja;

namespace Folio.Core.Text;

/// <summary>
/// A model's chat template(s) and the special tokens they see, loaded from a Hugging Face folder:
/// <c>chat_template.jinja</c> when present (transformers prefers it), else <c>tokenizer_config.json</c>'s
/// <c>chat_template</c>, a string or a list of <c>{"name", "template"}</c>; or from a GGUF file's metadata
/// (<see cref="FromGguf"/>). Rendering passes what transformers
/// passes: <c>messages</c>, <c>tools</c> and <c>documents</c> (none when not given), <c>add_generation_prompt</c>,
/// the special tokens (<c>bos_token</c>, <c>eos_token</c>, <c>unk_token</c>, <c>pad_token</c>, when set) and
/// the extra variables.
/// </summary>
public sealed class ChatTemplate
{
    private readonly Dictionary<string, JinjaTemplate> _templates;
    private readonly List<KeyValuePair<string, JinjaValue>> _specialTokens;

    private ChatTemplate(Dictionary<string, JinjaTemplate> templates, List<KeyValuePair<string, JinjaValue>> specialTokens)
    {
        _templates = templates;
        _specialTokens = specialTokens;
    }

    /// <summary>The template names: "default" for a single template.</summary>
    public IReadOnlyCollection<string> Names => _templates.Keys;

    public string? BosToken => Token("bos_token");
    public string? EosToken => Token("eos_token");

    private string? Token(string name) => _specialTokens.FirstOrDefault(t => t.Key == name).Value?.AsString;

    /// <summary>Loads the folder's template; null when the model has none.</summary>
    public static ChatTemplate? Load(string folder)
    {
        string configPath = Path.Combine(folder, "tokenizer_config.json");
        string? config = JsonFields.ReadOptionalFile(configPath);
        string? jinja = JsonFields.ReadOptionalFile(Path.Combine(folder, "chat_template.jinja"));
        return FromConfig(config ?? "{}", jinja, configPath);
    }

    /// <summary>
    /// Builds from a tokenizer_config.json text and an optional chat_template.jinja text (which wins);
    /// null when neither holds a template. <paramref name="source"/> names the config in errors.
    /// </summary>
    public static ChatTemplate? FromConfig(string tokenizerConfigJson, string? chatTemplateJinja, string source)
    {
        var config = TokenizerConfig.Parse(tokenizerConfigJson, source);
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        if (chatTemplateJinja is not null)
            sources["default"] = chatTemplateJinja;
        else
            ReadTemplates(tokenizerConfigJson, source, sources);
        if (sources.Count == 0)
            return null;
        return Build(sources, [("bos_token", config.BosToken), ("eos_token", config.EosToken), ("unk_token", config.UnkToken),
            ("pad_token", config.PadToken)], source);
    }

    /// <summary>
    /// From a GGUF file's metadata as llama.cpp's converter writes it: <c>tokenizer.chat_template</c> (the default) and
    /// <c>tokenizer.chat_template.NAME</c> (named ones), the special tokens looked up in <c>tokenizer.ggml.tokens</c> by
    /// <c>tokenizer.ggml.bos_token_id</c>, <c>eos_token_id</c>, <c>unknown_token_id</c> and <c>padding_token_id</c>;
    /// null when the file has no template. <paramref name="source"/> names the file in errors.
    /// </summary>
    public static ChatTemplate? FromGguf(IReadOnlyDictionary<string, object> metadata, string source)
    {
        const string Key = "tokenizer.chat_template";
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            if (key != Key && !key.StartsWith(Key + ".", StringComparison.Ordinal))
                continue;
            sources[key == Key ? "default" : key[(Key.Length + 1)..]] = value as string
                ?? throw new ModelFormatException($"{source}: metadata '{key}' must be a string");
        }
        if (sources.Count == 0)
            return null;
        string[]? vocabulary = metadata.TryGetValue("tokenizer.ggml.tokens", out var t) ? t as string[] : null;
        string? Token(string idKey) =>
            metadata.TryGetValue(idKey, out var v) && v is long id && vocabulary is not null && id >= 0 && id < vocabulary.Length ? vocabulary[id] : null;
        return Build(sources, [("bos_token", Token("tokenizer.ggml.bos_token_id")), ("eos_token", Token("tokenizer.ggml.eos_token_id")),
            ("unk_token", Token("tokenizer.ggml.unknown_token_id")), ("pad_token", Token("tokenizer.ggml.padding_token_id"))], source);
    }

    private static ChatTemplate Build(Dictionary<string, string> sources, (string Key, string? Value)[] specialTokens, string source)
    {
        var templates = new Dictionary<string, JinjaTemplate>(StringComparer.Ordinal);
        foreach (var (name, text) in sources)
        {
            try
            {
                templates[name] = JinjaTemplate.Parse(text);
            }
            catch (TemplateException e)
            {
                throw new ModelFormatException($"{source}: chat template '{name}': {e.Message}");
            }
        }
        var tokens = new List<KeyValuePair<string, JinjaValue>>();
        foreach (var (key, value) in specialTokens)
            if (value is not null)
                tokens.Add(new(key, JinjaValue.FromString(value)));
        return new ChatTemplate(templates, tokens);
    }

    private static void ReadTemplates(string json, string source, Dictionary<string, string> into)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!doc.RootElement.TryGetProperty("chat_template", out var t) || t.ValueKind == JsonValueKind.Null)
            return;
        if (t.ValueKind == JsonValueKind.String)
        {
            into["default"] = t.GetString()!;
            return;
        }
        if (t.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"{source}: chat_template must be a string or a list of {{\"name\", \"template\"}}");
        foreach (var item in t.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String
                || !item.TryGetProperty("template", out var body) || body.ValueKind != JsonValueKind.String)
                throw new ModelFormatException($"{source}: each chat_template entry needs a string \"name\" and \"template\"");
            into[n.GetString()!] = body.GetString()!;
        }
    }

    /// <summary>
    /// Renders from JSON, the form the C ABI receives: <paramref name="messagesJson"/> a list of messages,
    /// <paramref name="toolsJson"/> a list of tool definitions (or null), <paramref name="optionsJson"/> an
    /// object whose <c>add_generation_prompt</c>, <c>documents</c> and <c>template</c> keys are read and whose
    /// other keys become template variables (or null). Malformed JSON is an <see cref="ArgumentException"/>;
    /// a template error a <see cref="TemplateException"/>.
    /// </summary>
    public string Render(string messagesJson, string? toolsJson = null, string? optionsJson = null)
    {
        var messages = ParseJson(messagesJson, "messages");
        if (messages.Kind != JinjaValueKind.List)
            throw new ArgumentException("messages must be a JSON list", nameof(messagesJson));
        var tools = toolsJson is null ? null : ParseJson(toolsJson, "tools");
        var request = new ChatTemplateRequest { Messages = messages, Tools = tools is { IsNone: false } ? tools : null };
        if (optionsJson is not null)
        {
            var options = ParseJson(optionsJson, "options");
            if (options.Kind != JinjaValueKind.Dict)
                throw new ArgumentException("options must be a JSON object", nameof(optionsJson));
            var extra = new List<KeyValuePair<string, JinjaValue>>();
            foreach (var (key, value) in options.AsDict.Entries)
            {
                switch (key)
                {
                    case "add_generation_prompt": request = request with { AddGenerationPrompt = value.IsTruthy }; break;
                    case "documents": request = request with { Documents = value.IsNone ? null : value }; break;
                    case "template": request = request with { TemplateName = value.Kind == JinjaValueKind.String ? value.AsString : throw new ArgumentException("options.template must be a string") }; break;
                    default: extra.Add(new(key, value)); break;
                }
            }
            request = request with { Extra = extra };
        }
        return Render(request);
    }

    /// <summary>Renders <paramref name="request"/>; see <see cref="ChatTemplate"/> for the variables.</summary>
    public string Render(ChatTemplateRequest request)
    {
        var template = Select(request);
        var context = new List<KeyValuePair<string, JinjaValue>>(_specialTokens)
        {
            new("messages", request.Messages),
            new("tools", request.Tools ?? JinjaValue.None),
            new("documents", request.Documents ?? JinjaValue.None),
            new("add_generation_prompt", JinjaValue.FromBool(request.AddGenerationPrompt)),
        };
        context.AddRange(request.Extra);
        return template.Render(context);
    }

    private JinjaTemplate Select(ChatTemplateRequest request)
    {
        string name = request.TemplateName
            ?? (request.Tools is not null && _templates.ContainsKey("tool_use") ? "tool_use" : "default");
        if (_templates.TryGetValue(name, out var t))
            return t;
        throw new ArgumentException($"no chat template named '{name}' (this model has: {string.Join(", ", _templates.Keys.Order(StringComparer.Ordinal))})");
    }

    private static JinjaValue ParseJson(string json, string what)
    {
        try
        {
            return JsonValues.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{what}: not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)   // a string with a lone surrogate escape (\ud800): no valid text
        {
            throw new ArgumentException($"{what}: {e.Message}", e);
        }
    }
}
