using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>A model folder's chat template is loaded with the model (and a broken one refuses the load).</summary>
public sealed class ModelSourceChatTemplateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-source-chat-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Folder(string? tokenizerConfig)
    {
        string folder = Path.Combine(_dir, "m");
        BuiltinModels.TryGet("tiny", out var tiny);
        HfFolderWriter.Write(tiny, new SeededWeights(1), folder, bf16: false);
        if (tokenizerConfig is not null)
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokenizerConfig);
        return folder;
    }

    [Fact]
    public void A_folder_template_is_loaded_and_renders()
    {
        using var source = ModelSource.Open(Folder("""{"eos_token": "</s>", "chat_template": "{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}"}"""));
        Assert.NotNull(source.ChatTemplate);
        Assert.Equal("<user>hi</s>", source.ChatTemplate!.Render("""[{"role": "user", "content": "hi"}]"""));
    }

    [Fact]
    public void No_template_in_the_folder_or_a_builtin_gives_none()
    {
        using var folder = ModelSource.Open(Folder("""{"eos_token": "</s>"}"""));
        Assert.Null(folder.ChatTemplate);
        using var builtin = ModelSource.Open("tiny");
        Assert.Null(builtin.ChatTemplate);
    }

    [Fact]
    public void A_template_that_does_not_parse_fails_the_load_naming_the_file()
    {
        string folder = Folder("""{"chat_template": "{% for m in messages %}"}""");
        var e = Assert.Throws<ModelFormatException>(() => ModelSource.Open(folder));
        Assert.Contains("tokenizer_config.json", e.Message);
    }
}
