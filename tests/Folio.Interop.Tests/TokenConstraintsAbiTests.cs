using System.Text;
using Folio.Core.Sampling;
using Folio.Interop.Abi;
using Folio.Interop.Exports;
using Folio.Interop.Hosts;
using Folio.Interop.Runtime;

namespace Folio.Interop.Tests;

/// <summary>folio_sampling_params' token constraints (ABI 1.3): read field by field, refused with the field's name,
/// and enforced through the exported entry points on the tiny built-in model (GPT-2's tokenizer).</summary>
public sealed unsafe class TokenConstraintsAbiTests
{
    private static string LastMessage() =>
        Encoding.UTF8.GetString(new ReadOnlySpan<byte>(LastError.Current, 400)).Split('\0')[0];

    /// <summary>Pins UTF-8 strings for the test's duration (freed with the object).</summary>
    private sealed class Strings : IDisposable
    {
        private readonly List<System.Runtime.InteropServices.GCHandle> _pins = [];

        public byte* Text(string s, out ulong length)
        {
            byte[] b = Encoding.UTF8.GetBytes(s);
            length = (ulong)b.Length;
            return (byte*)Pin(b);
        }

        public void* Pin(Array a)
        {
            var h = System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned);
            _pins.Add(h);
            return (void*)h.AddrOfPinnedObject();
        }

        public (nint Texts, nint Lens) List(params string[] items)
        {
            var ptrs = new nint[items.Length];
            var lens = new ulong[items.Length];
            for (int i = 0; i < items.Length; i++)
                ptrs[i] = (nint)Text(items[i], out lens[i]);
            return ((nint)Pin(ptrs), (nint)Pin(lens));
        }

        public void Dispose()
        {
            foreach (var h in _pins)
                h.Free();
        }
    }

    [Fact]
    public void Every_field_reaches_the_managed_params()
    {
        using var s = new Strings();
        var p = Defaults.SamplingParams();
        p.StructuredOutputKind = (int)FolioStructuredOutput.Choice;
        var (choices, choiceLens) = s.List("yes", "no", "héllo");
        p.Choices = (byte**)choices;
        p.ChoiceLens = (ulong*)choiceLens;
        p.NumChoices = 3;
        p.LogitBiasTokenIds = (int*)s.Pin(new[] { 5, 9 });
        p.LogitBiasValues = (float*)s.Pin(new[] { -2.5f, 100f });
        p.NumLogitBias = 2;
        p.AllowedTokenIds = (int*)s.Pin(new[] { 1, 2, 3 });
        p.NumAllowedTokenIds = 3;
        var (words, wordLens) = s.List("bad", "worse words");
        p.BadWords = (byte**)words;
        p.BadWordLens = (ulong*)wordLens;
        p.NumBadWords = 2;
        Assert.Equal(0, SamplingParamsReader.Read(&p, "f", out SamplingParams sp));
        Assert.Equal(["yes", "no", "héllo"], sp.StructuredOutputs!.Choice!);
        Assert.Equal(new Dictionary<int, float> { [5] = -2.5f, [9] = 100f }, sp.LogitBias);
        Assert.Equal([1, 2, 3], sp.AllowedTokenIds!);
        Assert.Equal(["bad", "worse words"], sp.BadWords!);

        p = Defaults.SamplingParams();
        p.StructuredOutputKind = (int)FolioStructuredOutput.Json;
        p.StructuredOutput = s.Text("{\"type\":\"integer\"}", out p.StructuredOutputLen);
        Assert.Equal(0, SamplingParamsReader.Read(&p, "f", out sp));
        Assert.Equal(new StructuredOutputs { Json = "{\"type\":\"integer\"}" }, sp.StructuredOutputs);
        p.StructuredOutputKind = (int)FolioStructuredOutput.JsonObject;
        Assert.Equal(0, SamplingParamsReader.Read(&p, "f", out sp));
        Assert.True(sp.StructuredOutputs!.JsonObject);

        p = Defaults.SamplingParams();
        Assert.Equal(0, SamplingParamsReader.Read(&p, "f", out sp));
        Assert.False(sp.HasTokenConstraints);
    }

    private delegate void Setter(ref FolioSamplingParams p);

    [Fact]
    public void Bad_fields_are_invalid_arguments_naming_the_field()
    {
        using var s = new Strings();
        (Setter Set, string Message)[] cases =
        [
            ((ref FolioSamplingParams p) => p.StructuredOutputKind = 9, "f: params->structured_output_kind is 9; FOLIO_STRUCTURED_NONE (0) .. FOLIO_STRUCTURED_JSON_OBJECT (5)"),
            ((ref FolioSamplingParams p) => p.Reserved1 = 1, "f: params->reserved1 is 1; it must be 0"),
            ((ref FolioSamplingParams p) => p.StructuredOutputKind = (int)FolioStructuredOutput.Regex, "f: params->structured_output_len is 0; FOLIO_STRUCTURED_REGEX needs its text"),
            ((ref FolioSamplingParams p) => p.StructuredOutputKind = (int)FolioStructuredOutput.Choice, "f: params->num_choices is 0; FOLIO_STRUCTURED_CHOICE needs at least one choice"),
            ((ref FolioSamplingParams p) => p.NumLogitBias = 2, "f: params->logit_bias_token_ids is NULL"),
            ((ref FolioSamplingParams p) => { p.LogitBiasTokenIds = (int*)s.Pin(new[] { 1 }); p.LogitBiasValues = (float*)s.Pin(new[] { 200f }); p.NumLogitBias = 1; },
                "f: params: logit_bias[1] must be in [-100, 100], got 200."),
            ((ref FolioSamplingParams p) => { p.AllowedTokenIds = (int*)s.Pin(new[] { -3 }); p.NumAllowedTokenIds = 1; }, "f: params: allowed_token_ids[0] must be >= 0, got -3."),
            ((ref FolioSamplingParams p) => { var (t, l) = s.List("ok", " "); p.BadWords = (byte**)t; p.BadWordLens = (ulong*)l; p.NumBadWords = 2; },
                "f: params: bad_words[1] must be a non-empty word."),
            ((ref FolioSamplingParams p) => { p.StructuredOutputKind = (int)FolioStructuredOutput.Grammar; p.StructuredOutput = s.Text("x", out p.StructuredOutputLen); p.BeamWidth = 2; },
                "f: params: structured_outputs is not supported with beam search (beam_width 2)."),
        ];
        foreach (var (set, message) in cases)
        {
            var p = Defaults.SamplingParams();
            set(ref p);
            Assert.Equal((int)FolioStatus.InvalidArgument, SamplingParamsReader.Read(&p, "f", out _));
            Assert.StartsWith(message, LastMessage(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_engine_enforces_them_and_refuses_a_bad_schema_at_add()
    {
        using var s = new Strings();
        var ep = Defaults.EngineParams();
        ep.Model = s.Text("builtin:tiny", out ep.ModelLen);
        ep.NumGpuBlocks = 64;
        ep.NumThreads = 2;
        nint engine;
        delegate* unmanaged<FolioEngineParams*, nint*, int> create = &EngineExports.Create;
        delegate* unmanaged<nint, int*, ulong, FolioSamplingParams*, ulong*, int> addTokens = &EngineExports.AddTokens;
        delegate* unmanaged<nint, void> destroy = &EngineExports.Destroy;
        Assert.Equal(0, create(&ep, &engine));
        try
        {
            Assert.True(HandleTable.Shared.TryGet(engine, HandleKind.Engine, out EngineHost host));
            int* prompt = (int*)s.Pin(new[] { 464, 3290 });
            ulong id;

            var bad = Defaults.SamplingParams();
            bad.StructuredOutputKind = (int)FolioStructuredOutput.Json;
            bad.StructuredOutput = s.Text("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"multipleOf\":2}}}", out bad.StructuredOutputLen);
            Assert.Equal((int)FolioStatus.InvalidArgument, addTokens(engine, prompt, 2, &bad, &id));
            Assert.StartsWith("folio_engine_add_tokens: structured_outputs.json: unsupported keyword 'multipleOf' at #/properties/n",
                LastMessage(), StringComparison.Ordinal);

            var choice = Defaults.SamplingParams();
            choice.N = 3;
            choice.HasSeed = 1;
            choice.Seed = 11;
            choice.StructuredOutputKind = (int)FolioStructuredOutput.Choice;
            var (choiceTexts, lens) = s.List("red", "green", "blue");
            choice.Choices = (byte**)choiceTexts;
            choice.ChoiceLens = (ulong*)lens;
            choice.NumChoices = 3;
            Assert.Equal(0, addTokens(engine, prompt, 2, &choice, &id));
            var texts3 = new Dictionary<int, string>();
            var reasons = new Dictionary<int, int>();
            while (host.HasUnfinished)
            {
                var step = host.Step()!;
                for (int i = 0; i < step.Count; i++)
                {
                    FolioRequestOutput o = step[i];
                    if (o.SeqIndex < 0)
                        continue;
                    texts3[o.SeqIndex] = texts3.GetValueOrDefault(o.SeqIndex, "") + Encoding.UTF8.GetString(o.Text, (int)o.TextLen);
                    reasons[o.SeqIndex] = o.FinishReason;
                }
            }
            Assert.Equal(3, texts3.Count);
            Assert.All(texts3.Values, t => Assert.Contains(t, new[] { "red", "green", "blue" }));
            Assert.All(reasons.Values, r => Assert.Equal((int)FolioFinishReason.Stop, r));
            var output = host.Engine.Generate([[464, 3290]], new SamplingParams
            {
                MaxTokens = 8, Seed = 3, StructuredOutputs = new StructuredOutputs { Regex = "[0-9]{3}" },
            })[0].Outputs.Single();
            Assert.Equal(FinishReason.Stop, output.FinishReason);
            Assert.Matches("^[0-9]{3}$", output.Text);
        }
        finally
        {
            destroy(engine);
        }
    }
}
