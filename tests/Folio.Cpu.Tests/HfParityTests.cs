using System.Text.Json;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Folio's CPU logits against Hugging Face transformers' own (tests/fixtures/hf, made by make_hf_fixtures.py
/// on the GPU machine): fp32 logits within 1e-4 relative error (max |folio − hf| / max |hf|) at every prompt
/// position, and greedy continuations token for token up to HF's first near-tie (top-1/top-2 margin < 1e-5).
/// </summary>
public sealed class HfParityTests
{
    public static TheoryData<string> Models => new() { "llama3_rope", "qwen2_tied", "mistral", "mistral_swa", "qwen2_swa", "llama_bf16_sharded", "qwen3", "phi3_swa" };

    private const double Tolerance = 1e-4;
    private const double NearTie = 1e-5;

    private sealed record Reference(int[][] Prompts, int[][] GreedyTokens, double[][] GreedyMargins);

    private static Reference LoadReference(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "reference.json")));
        var root = doc.RootElement;
        int[][] prompts = root.GetProperty("prompts").EnumerateArray().Select(p => p.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        var greedy = root.GetProperty("greedy").EnumerateArray().ToArray();
        return new Reference(prompts,
            greedy.Select(g => g.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray(),
            greedy.Select(g => g.GetProperty("margins").EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray());
    }

    internal static DecoderModel LoadModel(string folder, CpuBackend backend)
    {
        var config = ModelConfig.Load(Path.Combine(folder, "config.json"));
        using var weights = CheckpointWeights.Open(folder);
        return DecoderModel.Load(config, weights, backend);
    }

    private static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }
        return maxDiff / maxRef;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void PrefillLogitsMatchHuggingFace(string name)
    {
        using var backend = new CpuBackend(2);
        foreach (var (prompt, error) in PrefillErrors(name, backend))
            Assert.True(error < Tolerance, $"{name} prompt {prompt}: relative error {error:E3} ≥ {Tolerance:E0}");
    }

    /// <summary>With K and V kept in bf16 (<c>--kv-cache-dtype bf16</c>), prefill logits stay within bf16's rounding of
    /// HF's fp32 ones (issue 16's bf16 bar: 2e-2), the fp32 activations and weights unchanged.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void PrefillLogitsWithABf16KvCacheStayWithinBf16RoundingOfHuggingFace(string name)
    {
        // Every CPU and head size since the twentieth session (qwen3's head of 24 takes the two-pass kernel).
        using var backend = new CpuBackend(2, kvCacheType: Folio.Core.Compute.DType.BF16);
        foreach (var (prompt, error) in PrefillErrors(name, backend, Folio.Core.Compute.DType.BF16))
            Assert.True(error < 2e-2, $"{name} prompt {prompt}: relative error {error:E3} with a bf16 KV cache");
    }

    /// <summary>Each fixture prompt's prefill logits (every row) on <paramref name="backend"/> against HF's: the relative
    /// error per prompt, after checking the logits' shape and that the model's caches take <paramref name="kvType"/>.</summary>
    private static IEnumerable<(int Prompt, double Error)> PrefillErrors(string name, CpuBackend backend,
        Folio.Core.Compute.DType kvType = Folio.Core.Compute.DType.F32)
    {
        string folder = Fixtures.Hf(name);
        var reference = LoadReference(folder);
        using var model = LoadModel(folder, backend);
        using (var cache = model.CreateKvCache(4, 16))
            Assert.Equal(kvType, cache.DType);
        using var expected = SafetensorsFile.Open(Path.Combine(folder, "logits.safetensors"));
        var runner = new PagedSequenceRunner(model, blockSize: 4, numBlocks: 64);
        for (int i = 0; i < reference.Prompts.Length; i++)
        {
            int[] prompt = reference.Prompts[i];
            int s = runner.AddSequence();
            float[] actual = runner.Step([(s, prompt)], allRows: true)[0];
            var info = expected.Tensors[$"prompt{i}"];
            Assert.Equal([prompt.Length, model.Config.VocabSize], info.Shape);
            var want = new float[info.ElementCount];
            expected.ReadFloat32(info, want);
            yield return (i, RelativeError(actual, want));
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void GreedyContinuationMatchesHuggingFace(string name)
    {
        string folder = Fixtures.Hf(name);
        var reference = LoadReference(folder);
        using var backend = new CpuBackend(2);
        using var model = LoadModel(folder, backend);
        var runner = new PagedSequenceRunner(model, blockSize: 16, numBlocks: 64);
        int compared = 0;
        for (int i = 0; i < reference.Prompts.Length; i++)
        {
            int s = runner.AddSequence();
            float[] logits = runner.Step([(s, reference.Prompts[i])])[0];
            for (int step = 0; step < reference.GreedyTokens[i].Length; step++)
            {
                int token = PagedSequenceRunner.ArgMax(logits);
                Assert.True(token == reference.GreedyTokens[i][step],
                    $"{name} prompt {i} step {step}: folio chose {token}, HF {reference.GreedyTokens[i][step]}");
                compared++;
                if (reference.GreedyMargins[i][step] < NearTie)
                    break;   // HF itself is at a tie here: what follows may legitimately differ
                logits = runner.Step([(s, [token])])[0];
            }
        }
        Assert.True(compared >= reference.Prompts.Length, "no greedy token was compared");
    }
}
