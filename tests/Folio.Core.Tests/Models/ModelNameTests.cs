using Folio.Core.Models;

namespace Folio.Core.Tests.Models;

/// <summary>The one model-name rule of every host: builtin:NAME, else an existing folder, else a bare built-in name.</summary>
public sealed class ModelNameTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("folio-modelname-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelName Resolve(string model, params string[] hostBuiltins)
    {
        Assert.True(ModelName.TryResolve(model, hostBuiltins, out ModelName name, out string error), error);
        return name;
    }

    private static string Error(string model, params string[] hostBuiltins)
    {
        Assert.False(ModelName.TryResolve(model, hostBuiltins, out _, out string error));
        return error;
    }

    [Theory]
    [InlineData("tiny", "tiny")]
    [InlineData("builtin:tiny", "tiny")]
    [InlineData("b8", "b8")]
    [InlineData("builtin:llama-8b", "llama-8b")]
    public void Builtin_names_resolve_with_or_without_the_prefix(string model, string builtin)
    {
        ModelName name = Resolve(model);
        Assert.Equal(builtin, name.Builtin);
        Assert.Null(name.Folder);
    }

    [Fact]
    public void A_host_adds_its_own_builtins()
    {
        Assert.Equal("fake", Resolve("fake", "fake").Builtin);
        Assert.Equal("fake", Resolve("builtin:fake", "fake").Builtin);
        Assert.Equal("the model folder 'fake' does not exist, and 'fake' is not a built-in model (built-in: tiny, b8, llama-1b, llama-8b, qwen3-0.6b; each also as builtin:NAME)",
            Error("fake"));
    }

    [Fact]
    public void An_existing_folder_wins_over_a_builtin_name_but_not_over_the_prefix()
    {
        string tiny = Path.Combine(_dir, "tiny");
        Directory.CreateDirectory(tiny);
        ModelName folder = Resolve(tiny);
        Assert.Equal(tiny, folder.Folder);
        Assert.Null(folder.Builtin);
        Assert.Equal("'builtin:" + tiny + "' is not a built-in model (built-in: tiny, b8, llama-1b, llama-8b, qwen3-0.6b; each also as builtin:NAME)",
            Error("builtin:" + tiny));
    }

    [Fact]
    public void Unknown_names_and_the_empty_name_are_errors()
    {
        Assert.StartsWith("'builtin:nope' is not a built-in model", Error("builtin:nope"));
        Assert.StartsWith("the model folder '' does not exist", Error(""));
    }
}
