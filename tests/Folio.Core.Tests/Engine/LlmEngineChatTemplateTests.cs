using Folio.Core.Engine;
using Folio.Core.Text;
using Folio.Core.Text.Jinja;

namespace Folio.Core.Tests.Engine;

/// <summary>LlmEngine.ApplyChatTemplate: the one entry every host renders chats through.</summary>
public sealed class LlmEngineChatTemplateTests
{
    private const string Template =
        "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}" +
        "{% if tools %}(tools:{{ tools | length }}){% endif %}{% if documents %}(docs:{{ documents | length }}){% endif %}" +
        "{% if enable_thinking is defined %}(think:{{ enable_thinking }}){% endif %}{% if add_generation_prompt %}[assistant]{% endif %}";

    private static LlmEngine Engine(ChatTemplate? template)
    {
        var h = new EngineHarness();
        return new LlmEngine(h.Engine.Options, h.Fake, new FakeTextDecoder()) { ChatTemplate = template };
    }

    private static ChatTemplate Chat() => ChatTemplate.FromConfig(
        $$"""{"bos_token": "<s>", "chat_template": {{System.Text.Json.JsonSerializer.Serialize(Template, Text.ChatTemplateTestJson.Default.String)}}}""",
        null, "tokenizer_config.json")!;

    [Fact]
    public void Renders_messages_tools_documents_generation_prompt_and_extra_variables()
    {
        var engine = Engine(Chat());
        const string messages = """[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi 👋"}]""";
        Assert.Equal("<s>[system]Be brief.[user]Hi 👋", engine.ApplyChatTemplate(messages));
        Assert.Equal("<s>[system]Be brief.[user]Hi 👋(tools:2)(docs:1)(think:false)[assistant]",
            engine.ApplyChatTemplate(messages, """[{"name": "a"}, {"name": "b"}]""",
                """{"add_generation_prompt": true, "documents": [{"text": "d"}], "enable_thinking": false}"""));
        var parsed = new ChatTemplateRequest { Messages = JsonValues.Parse(messages), AddGenerationPrompt = true };
        Assert.Equal("<s>[system]Be brief.[user]Hi 👋[assistant]", engine.ApplyChatTemplate(parsed));
    }

    [Fact]
    public void A_model_without_a_template_or_bad_input_is_a_clear_error()
    {
        var none = Engine(null);
        Assert.Null(none.ChatTemplate);
        var e = Assert.Throws<InvalidOperationException>(() => none.ApplyChatTemplate("[]"));
        Assert.Contains("no chat template", e.Message);
        var engine = Engine(Chat());
        Assert.Contains("not valid JSON", Assert.Throws<ArgumentException>(() => engine.ApplyChatTemplate("[{")).Message);
        Assert.Contains("must be a JSON list", Assert.Throws<ArgumentException>(() => engine.ApplyChatTemplate("{}")).Message);
        Assert.Contains("options must be a JSON object",
            Assert.Throws<ArgumentException>(() => engine.ApplyChatTemplate("[]", null, "[1]")).Message);
    }
}
