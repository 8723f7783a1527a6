using System.Text.Json;
using Folio.Core.Engine;
using Folio.Core.Sampling;
using Json.Schema;

namespace Folio.Structured.Tests.Engine;

/// <summary>
/// End to end through <see cref="LlmEngine"/> on the tiny model: schemas of the committed MaskBench sample, each
/// output parsed and validated by JsonSchema.Net (a validator nobody here wrote).
/// </summary>
public class StructuredEngineTests(TinyEngine tiny) : IClassFixture<TinyEngine>
{
    [Fact]
    public async Task JsonSchemaOutputsValidate()
    {
        var cases = SampleSchemas();
        // 200 in ./test.sh (about 2 minutes on 2 shared cores); FOLIO_STRUCTURED_E2E_REQUESTS=1000 for the run.
        int requests = int.TryParse(Environment.GetEnvironmentVariable("FOLIO_STRUCTURED_E2E_REQUESTS"), out int n) ? n : 200;
        var prompt = tiny.Prompt("Answer in JSON:");
        long forcedBefore = tiny.Engine.GetSchedulerStats().ForcedTokens;
        long tokens = 0;
        var streams = new List<(RequestStream Stream, string Name, JsonSchema Schema)>();
        for (int i = 0; i < requests; i++)
        {
            var (name, text, schema) = cases[i % cases.Count];
            var p = new SamplingParams
            {
                MaxTokens = 256, Seed = i, StructuredOutputs = new StructuredOutputs { Json = text }, LogitBias = tiny.Closers,
            };
            streams.Add((tiny.Engine.Submit(prompt, p), name, schema));
        }
        int stopped = 0, cut = 0;
        var failures = new List<string>();
        foreach (var (stream, name, schema) in streams)
        {
            foreach (var _ in stream.ReadAll()) { }
            var o = (await stream.Completion).Outputs.Single();
            tokens += o.TokenIds.Count;
            if (o.FinishReason == FinishReason.Length)
            {
                cut++;
                Assert.Equal(256, o.TokenIds.Count);
                continue;
            }
            Assert.Equal(FinishReason.Stop, o.FinishReason);
            stopped++;
            try
            {
                using var doc = JsonDocument.Parse(o.Text);
                var result = schema.Evaluate(doc.RootElement, new EvaluationOptions { RequireFormatValidation = true });
                if (!result.IsValid)
                    failures.Add($"{name}: invalid: {o.Text}");
            }
            catch (JsonException e)
            {
                failures.Add($"{name}: does not parse ({e.Message}): {o.Text}");
            }
        }
        long forced = tiny.Engine.GetSchedulerStats().ForcedTokens - forcedBefore;
        Console.WriteLine($"{cases.Count} schemas, {stopped} stopped, {cut} cut, {failures.Count} failures; fast-forward {forced} of {tokens} tokens " +
            $"({100.0 * forced / Math.Max(1, tokens):F1}%); steps {tiny.Engine.GetStepTimings()}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {stopped}:\n" + string.Join("\n", failures.Take(10)));
        // Random weights with open-ended schemas (any additional property) may run to max_tokens: those are reported as
        // Length (checked above); most finish.
        Assert.True(stopped >= requests / 2, $"only {stopped} of {requests} finished (cut at max_tokens: {cut})");
    }

    /// <summary>The sample's schemas that both Folio compiles and JsonSchema.Net builds (draft-04 ones are read as
    /// draft 7 with their boolean exclusive bounds dropped where absent).</summary>
    private List<(string Name, string Text, JsonSchema Schema)> SampleSchemas()
    {
        var list = new List<(string, string, JsonSchema)>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "maskbench-sample"), "*.json").Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            string text = doc.RootElement.GetProperty("schema").GetRawText();
            try
            {
                tiny.Factory.Create(new StructuredOutputs { Json = text });
            }
            catch (ArgumentException)
            {
                continue;   // refused by Folio (the sample test counts these)
            }
            JsonSchema schema;
            try
            {
                schema = ValidatorSchema.Build(text);
            }
            catch (Exception e) when (e is JsonSchemaException or JsonException or InvalidOperationException or ArgumentException)
            {
                Console.WriteLine($"{Path.GetFileName(file)}: JsonSchema.Net: {e.Message}");
                continue;
            }
            list.Add((Path.GetFileName(file), text, schema));
        }
        return list;
    }
}
