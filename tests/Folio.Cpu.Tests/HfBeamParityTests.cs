using System.Text.Json;
using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Cpu.Tests;

/// <summary>
/// Folio's beam search on real models against Hugging Face's <c>generate(num_beams=W, length_penalty=…,
/// num_return_sequences=W)</c>: <c>tests/fixtures/hf/&lt;model&gt;/beam_reference.json</c>, made by
/// <c>tests/fixtures/make_hf_beam_fixtures.py</c> on a machine with transformers. The models are listed in
/// <c>tests/fixtures/hf/beam_fixtures.txt</c>, written by the same script and committed with the data: a listed
/// model without its reference fails; until the list is committed the test is reported as skipped, never passed.
/// </summary>
public sealed class HfBeamParityTests
{
    private static readonly string ListPath = Path.Combine(Fixtures.Root, "hf", "beam_fixtures.txt");

    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        if (!File.Exists(ListPath))
        {
            data.Add("(beam_fixtures.txt not committed)");
            return data;
        }
        foreach (string line in File.ReadAllLines(ListPath))
            if (line.Trim().Length > 0)
                data.Add(line.Trim());
        return data;
    }

    [HfBeamTheory]
    [MemberData(nameof(Models))]
    public void BeamSearchEqualsHuggingFace(string model)
    {
        string folder = Fixtures.Hf(model);
        string path = Path.Combine(folder, "beam_reference.json");
        Assert.True(File.Exists(path), $"{model} is listed in beam_fixtures.txt but {path} is missing");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.False(doc.RootElement.GetProperty("early_stopping").GetBoolean());   // the rule Folio implements
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.True(cases.Count >= 6, $"{model}: only {cases.Count} cases");
        var widths = new HashSet<int>();
        int eosEnds = 0;
        using var backend = new CpuBackend(2);
        using var m = HfParityTests.LoadModel(folder, backend);
        foreach (var c in cases)
        {
            int[] prompt = Ints(c.GetProperty("prompt"));
            int width = c.GetProperty("num_beams").GetInt32();
            float lp = c.GetProperty("length_penalty").GetSingle();
            int eos = c.GetProperty("eos_token_id").GetInt32();
            int maxNew = c.GetProperty("max_new_tokens").GetInt32();
            var expected = c.GetProperty("sequences").EnumerateArray().Select(Ints).ToList();
            var scores = c.GetProperty("sequences_scores").EnumerateArray().Select(x => x.GetDouble()).ToList();
            widths.Add(width);
            eosEnds += expected.Count(s => s.Length > 0 && s[^1] == eos);

            var options = new EngineOptions
            {
                KvCache = new KvCacheOptions { NumGpuBlocks = 256, BlockSizeTokens = 4 },
                Scheduler = new SchedulerOptions { MaxNumBatchedTokens = 256, EosTokenId = eos },
            };
            using var executor = new ModelExecutor(m, backend, 256, 0, 4, [eos]);
            var engine = new LlmEngine(options, executor);
            var output = engine.Generate([prompt], new SamplingParams { BeamWidth = width, MaxTokens = maxNew, LengthPenalty = lp })[0];
            string what = $"{model}, prompt of {prompt.Length}, width {width}, length_penalty {lp}, eos {eos}";
            Assert.True(expected.Count == output.Outputs.Count, $"{what}: {output.Outputs.Count} beams, HF {expected.Count}");
            for (int i = 0; i < expected.Count; i++)
            {
                var o = output.Outputs[i];
                Assert.True(expected[i].AsSpan().SequenceEqual(o.TokenIds.ToArray()),
                    $"{what}, beam {i}: [{string.Join(",", o.TokenIds)}], HF [{string.Join(",", expected[i])}]");
                // fp32 logits on both sides, summed over up to 10 tokens: 1e-3 is above the rounding and below the
                // 5e-3 the script requires between consecutive beams (it drops near ties).
                Assert.True(Math.Abs(scores[i] - o.BeamScore) < 1e-3, $"{what}, beam {i}: score {o.BeamScore}, HF {scores[i]}");
            }
        }
        Assert.Equal([2, 4, 6], widths.Order());
        Assert.True(eosEnds > 0, $"{model}: no HF beam ends on EOS; the cases do not test EOS handling");
    }

    private static int[] Ints(JsonElement a) => a.EnumerateArray().Select(x => x.GetInt32()).ToArray();
}

/// <summary>A theory that is skipped, with the reason, while tests/fixtures/hf/beam_fixtures.txt is not committed.</summary>
public sealed class HfBeamTheoryAttribute : TheoryAttribute
{
    public HfBeamTheoryAttribute()
    {
        if (!File.Exists(Path.Combine(Fixtures.Root, "hf", "beam_fixtures.txt")))
            Skip = "tests/fixtures/hf/beam_fixtures.txt is not committed yet: run tests/fixtures/make_hf_beam_fixtures.py where transformers runs";
    }
}
