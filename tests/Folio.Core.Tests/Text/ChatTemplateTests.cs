using Folio.Core.Models;
using Folio.Core.Text;
using Folio.Core.Text.Jinja;

namespace Folio.Core.Tests.Text;

/// <summary>Loading a model folder's chat template(s) and rendering from JSON, as the C ABI will.</summary>
public sealed class ChatTemplateTests : IDisposable
{
    private const string ChatMl =
        "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

    private readonly string _dir = Directory.CreateTempSubdirectory("folio-chat-template-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ChatTemplate Load(string tokenizerConfig, string? jinjaFile = null)
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), tokenizerConfig);
        if (jinjaFile is not null)
            File.WriteAllText(Path.Combine(_dir, "chat_template.jinja"), jinjaFile);
        return ChatTemplate.Load(_dir) ?? throw new InvalidOperationException("no template loaded");
    }

    private static string Json(string s) => System.Text.Json.JsonSerializer.Serialize(s, ChatTemplateTestJson.Default.String);

    [Fact]
    public void Renders_a_string_template_with_special_tokens_and_generation_prompt()
    {
        var t = Load($$"""{"bos_token": "<s>", "eos_token": {"__type": "AddedToken", "content": "</s>"}, "chat_template": {{Json(ChatMl)}}}""");
        Assert.Equal("<s>", t.BosToken);
        Assert.Equal("</s>", t.EosToken);
        string messages = """[{"role": "user", "content": "Hi \"you\" 👋"}, {"role": "assistant", "content": "Yo"}]""";
        Assert.Equal("<s><|user|>Hi \"you\" 👋</s><|assistant|>Yo</s>", t.Render(messages));
        Assert.Equal("<s><|user|>Hi \"you\" 👋</s><|assistant|>Yo</s><|assistant|>", t.Render(messages, null, """{"add_generation_prompt": true}"""));
    }

    [Fact]
    public void Named_templates_pick_tool_use_when_tools_are_given()
    {
        var t = Load("""{"chat_template": [{"name": "default", "template": "plain:{{ tools }}"}, {"name": "tool_use", "template": "tools:{{ tools | length }}:{{ tools[0].function.name }}"}]}""");
        Assert.Equal(["default", "tool_use"], t.Names.Order(StringComparer.Ordinal));
        Assert.Equal("plain:", t.Render("[]"));
        Assert.Equal("tools:1:f", t.Render("[]", """[{"type": "function", "function": {"name": "f"}}]"""));
        Assert.Equal("plain:[{\"a\": 1}]", t.Render("[]", """[{"a": 1}]""", """{"template": "default"}"""));
        var e = Assert.Throws<ArgumentException>(() => t.Render("[]", null, """{"template": "rag"}"""));
        Assert.Equal("no chat template named 'rag' (this model has: default, tool_use)", e.Message);
    }

    [Fact]
    public void Chat_template_jinja_file_wins_over_the_config()
    {
        var t = Load("""{"chat_template": "from config"}""", "from file {{ messages | length }}\n");
        Assert.Equal("from file 0", t.Render("[]"));
    }

    [Fact]
    public void Options_become_variables_and_tools_documents_default_to_none()
    {
        var t = Load("""{"chat_template": "{{ enable_thinking }}|{{ tools is none }}|{{ documents is none }}|{{ documents[0].title if documents else '' }}|{{ custom.k }}"}""");
        Assert.Equal("|true|true||", t.Render("[]"));
        Assert.Equal("false|true|false|T|v", t.Render("[]", null, """{"enable_thinking": false, "documents": [{"title": "T"}], "custom": {"k": "v"}}"""));
    }

    [Fact]
    public void Typed_request_renders_the_same_as_json()
    {
        var t = Load($$"""{"bos_token": "<s>", "eos_token": "</s>", "chat_template": {{Json(ChatMl)}}}""");
        var request = new ChatTemplateRequest
        {
            Messages = JsonValues.Parse("""[{"role": "user", "content": "x"}]"""),
            AddGenerationPrompt = true,
        };
        Assert.Equal("<s><|user|>x</s><|assistant|>", t.Render(request));
        Assert.Equal(t.Render(request), t.Render("""[{"role": "user", "content": "x"}]""", null, """{"add_generation_prompt": true}"""));
    }

    [Fact]
    public void Bad_input_is_an_argument_exception_and_a_template_error_a_template_exception()
    {
        var t = Load("""{"chat_template": "{{ raise_exception('no system role') if messages[0].role == 'system' }}ok"}""");
        Assert.Throws<ArgumentException>(() => t.Render("[{"));
        Assert.Throws<ArgumentException>(() => t.Render("{}"));
        Assert.Throws<ArgumentException>(() => t.Render("[]", null, "[]"));
        Assert.Equal("ok", t.Render("""[{"role": "user", "content": ""}]"""));
        var e = Assert.Throws<TemplateException>(() => t.Render("""[{"role": "system", "content": ""}]"""));
        Assert.Equal("no system role", e.Detail);
        Assert.True(e.RaisedByTemplate);
    }

    [Fact]
    public void A_folder_without_a_template_loads_as_null_and_a_broken_template_names_its_file()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"bos_token": "<s>"}""");
        Assert.Null(ChatTemplate.Load(_dir));
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"chat_template": "{% for x in y %}"}""");
        var e = Assert.Throws<ModelFormatException>(() => ChatTemplate.Load(_dir));
        Assert.Equal($"{Path.Combine(_dir, "tokenizer_config.json")}: chat template 'default': 1:1: '{{% for %}}' is never closed (expected '{{% endfor %}}')", e.Message);
    }
}
