using System.Buffers;
using System.Text;
using System.Text.Json;
using Folio.Core.Text.Jinja;

namespace Folio.Server;

/// <summary>
/// POST /v1/chat/completions' body → <see cref="GenerationRequest"/>: the messages (and tools, documents,
/// chat_template_kwargs) rendered with the model's chat template (<see cref="Core.Engine.LlmEngine.ApplyChatTemplate"/>),
/// tokenized without added special tokens (the template writes them; vLLM's default). Content given as a list of
/// parts is joined into one string, as vLLM's "string" content format does; only text parts are accepted.
/// </summary>
internal static class ChatRequestParser
{
    public static GenerationRequest Parse(RequestFields f, ServedModel model)
    {
        ModelCheck.Require(f, model);
        if (!f.TryGet("messages", out var messages))
            throw new ApiException(400, "'messages' is required", "messages");
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw RequestFields.Wrong("messages", "a non-empty list of messages", messages);
        if (model.Engine.ChatTemplate is null)
        {
            throw new ApiException(400,
                $"the model {model.Name} has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja), " +
                "so chat completions are not available: use /v1/completions", "messages");
        }
        string messagesJson = NormalizeMessages(messages);
        string? toolsJson = f.TryGet("tools", out var tools)
            ? tools.ValueKind == JsonValueKind.Array ? tools.GetRawText() : throw RequestFields.Wrong("tools", "a list", tools)
            : null;
        string optionsJson = Options(f);
        string text;
        try
        {
            text = model.Engine.ApplyChatTemplate(messagesJson, toolsJson, optionsJson);
        }
        catch (TemplateException e)
        {
            throw new ApiException(400, $"the chat template failed on these messages: {e.Message}", "messages");
        }
        int[] ids = PromptTokens.Encode(text, model, f.Bool("add_special_tokens") ?? false);

        bool wantLogprobs = f.Bool("logprobs") ?? false;
        int? top = f.Int("top_logprobs", 0, SamplingFields.MaxTopLogprobs);
        if (top is not null && !wantLogprobs)
            throw new ApiException(400, "'top_logprobs' needs 'logprobs': true", "top_logprobs");
        int? topLogprobs = wantLogprobs ? top ?? 0 : null;
        var sampling = SamplingFields.Read(f, model, topLogprobs);
        int? maxTokens = f.Int("max_completion_tokens", 1) ?? f.Int("max_tokens", 1);
        sampling = SamplingFields.WithMaxTokens(sampling, maxTokens, ids.Length, model, defaultMax: null);
        var (priority, key) = SamplingFields.ReadOptions(f);
        bool stream = f.Bool("stream") ?? false;
        return new GenerationRequest([ids], sampling, stream, StreamOptions.IncludeUsage(f, stream), priority, key, topLogprobs);
    }

    /// <summary>The options object of ChatTemplate.Render: chat_template_kwargs, then add_generation_prompt and documents.</summary>
    private static string Options(RequestFields f)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (f.TryGet("chat_template_kwargs", out var kwargs))
            {
                if (kwargs.ValueKind != JsonValueKind.Object) throw RequestFields.Wrong("chat_template_kwargs", "an object", kwargs);
                foreach (var p in kwargs.EnumerateObject())
                {
                    if (p.Name is "add_generation_prompt" or "documents" or "template") continue;
                    p.WriteTo(w);
                }
            }
            w.WriteBoolean("add_generation_prompt", f.Bool("add_generation_prompt") ?? true);
            if (f.TryGet("documents", out var docs))
            {
                if (docs.ValueKind != JsonValueKind.Array) throw RequestFields.Wrong("documents", "a list", docs);
                w.WritePropertyName("documents");
                docs.WriteTo(w);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string NormalizeMessages(JsonElement messages)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            int i = 0;
            foreach (var m in messages.EnumerateArray())
            {
                string where = $"messages[{i++}]";
                if (m.ValueKind != JsonValueKind.Object) throw RequestFields.Wrong(where, "an object", m);
                if (!m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                    throw new ApiException(400, $"'{where}.role' must be a string", "messages");
                w.WriteStartObject();
                foreach (var p in m.EnumerateObject())
                {
                    if (p.Name == "content" && p.Value.ValueKind == JsonValueKind.Array)
                        w.WriteString("content", JoinParts(p.Value, where));
                    else if (p.Name == "content" && p.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                        throw RequestFields.Wrong($"{where}.content", "a string or a list of content parts", p.Value);
                    else
                        p.WriteTo(w);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string JoinParts(JsonElement parts, string where)
    {
        var text = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object
                || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw new ApiException(400, $"'{where}.content' parts must be objects with a \"type\"", "messages");
            if (type.GetString() != "text" || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                throw new ApiException(400, $"'{where}.content': only text parts are supported (got type '{type.GetString()}')", "messages");
            if (text.Length > 0) text.Append('\n');
            text.Append(t.GetString());
        }
        return text.ToString();
    }
}
