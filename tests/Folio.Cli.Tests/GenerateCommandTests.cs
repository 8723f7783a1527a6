using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Cpu;

namespace Folio.Cli.Tests;

/// <summary>
/// <c>folio generate</c>: what it streams is the engine's output for the same model, prompt and parameters (built
/// here from the public Folio.Core/Folio.Cpu API, not through the CLI's own factory), with seeds and --n; bad
/// models and parameters are refused with exit code 2 and a message naming the problem.
/// </summary>
public class GenerateCommandTests
{
    private const string Prompt = "The quick brown fox";

    /// <summary>The reference: the tiny built-in model (weights seeded by the sampling seed, as the CLI opens it).</summary>
    private static RequestOutput Engine(long seed, int n, int maxTokens, float temperature)
    {
        using var model = CpuModel.Open("tiny", 2, seed);
        using var executor = model.CreateExecutor(64, 0, 16, seed);
        var engine = new LlmEngine(new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = 64, BlockSizeTokens = 16 },
            Scheduler = new SchedulerOptions { MaxNumSeqs = 8, EosTokenId = model.EosTokenId },
        }, executor, new IncrementalDetokenizer(model.Source.Tokenizer!));
        var p = model.Source.DefaultSampling(new SamplingParams { MaxTokens = maxTokens, Temperature = temperature }) with { Seed = seed, N = n };
        return engine.Generate([model.Source.EncodePrompt(Prompt)], p)[0];
    }

    private static (int Code, string Out, string Error) Generate(long seed, params string[] more)
        => CliRun.Folio(["generate", "--model", "tiny", "--prompt", Prompt, "--max-tokens", "10", "--temperature", "0.8",
            "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--threads", "2", .. more]);

    [Fact]
    public void StreamsTheEnginesCompletion()
    {
        var (code, output, error) = Generate(5);
        Assert.Equal(0, code);
        var reference = Engine(5, 1, 10, 0.8f).Outputs.Single();
        Assert.Equal(10, reference.TokenIds.Count);
        Assert.Equal(reference.Text + Environment.NewLine, output);
        int promptTokens = ModelSource.Open("tiny").EncodePrompt(Prompt).Length;
        Assert.StartsWith($"({promptTokens} prompt tokens, 10 generated, ", error);
    }

    [Fact]
    public void TheSeedDecides()
    {
        var a = Generate(5);
        var again = Generate(5);
        var b = Generate(6);
        Assert.Equal(a.Out, again.Out);
        Assert.NotEqual(a.Out, b.Out);
        Assert.Equal(Engine(6, 1, 10, 0.8f).Outputs.Single().Text + Environment.NewLine, b.Out);
    }

    [Fact]
    public void WithN_PrintsEachSampleOfTheEngine()
    {
        var (code, output, error) = Generate(7, "--n", "3");
        Assert.Equal(0, code);
        var reference = Engine(7, 3, 10, 0.8f).Outputs;
        Assert.Equal(3, reference.Count);
        Assert.Equal(3, reference.Select(o => o.Text).Distinct().Count());
        string expected = string.Concat(reference.Select(o => $"[{o.Index}] {o.Text}{Environment.NewLine}"));
        Assert.Equal(expected, output);
        Assert.Contains(" 30 generated, ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AFolderThatIsNoModel_IsRefused()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"folio-no-model-{Guid.NewGuid():N}");
        var (code, output, error) = CliRun.Folio("generate", "--model", missing, "--prompt", "hi");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Equal($"error: the model folder '{missing}' does not exist, and '{missing}' is not a built-in model " +
            $"(built-in: tiny, b8, llama-1b, llama-8b, qwen3-0.6b; each also as builtin:NAME){Environment.NewLine}", error);
    }

    [Fact]
    public void ABadConfig_IsRefusedNamingTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("folio-bad-model-").FullName;
        File.WriteAllText(Path.Combine(dir, "config.json"), "{ not json");
        var (code, output, error) = CliRun.Folio("generate", "--model", dir, "--prompt", "hi");
        Directory.Delete(dir, recursive: true);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error);
        Assert.Contains("config.json", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));   // a message, not a stack trace
    }

    [Fact]
    public void AModelWithoutATokenizer_IsRefused()
    {
        // A committed Hugging Face fixture: weights and config, no tokenizer.json, not GPT-2's vocabulary.
        string dir = FixtureFolder("llama3_rope");
        var (code, output, error) = CliRun.Folio("generate", "--model", dir, "--prompt", "hi");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Equal($"error: {dir}: no tokenizer (tokenizer.json missing and the vocabulary is not GPT-2's){Environment.NewLine}", error);
    }

    internal static string FixtureFolder(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "tests", "fixtures", "hf", name);
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException($"tests/fixtures/hf/{name} not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void ABf16KvCache_GivesTheGreedyTokensOfFp32OnTheTinyModel()
    {
        string[] greedy = ["generate", "--model", "tiny", "--prompt", Prompt, "--max-tokens", "16", "--temperature", "0", "--threads", "2"];
        var fp32 = CliRun.Folio(greedy);
        var bf16 = CliRun.Folio([.. greedy, "--kv-cache-dtype", "bf16"]);
        Assert.Equal(0, fp32.ExitCode);
        Assert.Equal(0, bf16.ExitCode);   // every CPU: the one-pass kernel where AVX-512 runs, the two-pass one elsewhere
        Assert.EndsWith($" 16 generated, cpu (2 threads), bf16 KV cache){Environment.NewLine}", bf16.Error, StringComparison.Ordinal);
        Assert.EndsWith($" 16 generated, cpu (2 threads)){Environment.NewLine}", fp32.Error, StringComparison.Ordinal);
        Assert.Equal(fp32.Out, bf16.Out);
    }

    [Theory]
    [InlineData(new[] { "--kv-cache-dtype", "f16" }, "error: --kv-cache-dtype 'f16' must be fp32 or bf16")]
    [InlineData(new[] { "--kv-cache-dtype", "bf16", "--device", "cuda" }, "error: --kv-cache-dtype applies to the CPU backend (on a GPU the cache takes --dtype)")]
    public void ABadKvCacheDtype_IsRefused(string[] options, string message)
    {
        var (code, output, error) = CliRun.Folio(["generate", "--model", "tiny", "--prompt", "hi", .. options]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Equal(message + Environment.NewLine, error);
    }

    [Fact]
    public void BadSamplingParameters_AreRefused()
    {
        var (code, output, error) = Generate(1, "--n", "0");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: n must be", error);
    }
}
