using System.Text.Json.Nodes;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// tokenizer.json's post_processor decides which ids Hugging Face adds with add_special_tokens: each supported
/// type on GPT-2's vocabulary (with its &lt;|endoftext|&gt; = 50256 standing in for the special tokens), and
/// unsupported ones refused naming the field. Real files: <see cref="RealVocabularyParityTests"/>.
/// </summary>
public sealed class TokenizerPostProcessorTests
{
    private static readonly string Gpt2Json = Path.Combine(Fixtures.Root, "hf", "tokenizer", "gpt2", "tokenizer.json");

    private static string With(string postProcessor, Action<JsonNode>? edit = null)
    {
        var json = JsonNode.Parse(File.ReadAllText(Gpt2Json))!;
        json["post_processor"] = JsonNode.Parse(postProcessor);
        edit?.Invoke(json);
        return Fixtures.WriteTokenizerJson("post", json);
    }

    // "Hello" is 15496 in GPT-2's vocabulary.
    [Theory]
    [InlineData("null", new[] { 15496 })]
    [InlineData("""{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}""", new[] { 15496 })]
    [InlineData("""{"type": "BertProcessing", "sep": ["[SEP]", 7], "cls": ["[CLS]", 9]}""", new[] { 9, 15496, 7 })]
    [InlineData("""{"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": true, "add_prefix_space": false}""", new[] { 0, 15496, 2 })]
    [InlineData("""
        {"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": "<eos2>", "type_id": 0}}],
         "pair": [], "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [50256], "tokens": ["<|endoftext|>"]},
                                        "<eos2>": {"id": "<eos2>", "ids": [50256, 11], "tokens": ["<|endoftext|>", ","]}}}]}
        """, new[] { 50256, 15496, 50256, 11 })]
    public void SpecialTokensAreAddedOnlyWhenAskedFor(string postProcessor, int[] with)
    {
        var tokenizer = TextTokenizer.FromTokenizerJson(With(postProcessor), 50256);
        Assert.Equal(with, tokenizer.Encode("Hello", addSpecialTokens: true));
        Assert.Equal([15496], tokenizer.Encode("Hello", addSpecialTokens: false));
        Assert.Equal([15496], tokenizer.Encode("Hello"));
    }

    public static TheoryData<string, string> Refused => new()
    {
        { """{"type": "SomethingNew"}""", "field 'post_processor.type' 'SomethingNew' is not supported" },
        { """{"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "Weird"}]}""", "field 'post_processor.processors[1].type' 'Weird' is not supported" },
        { """{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<x>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {}}""",
            "field 'post_processor.single[0]' names '<x>', which 'post_processor.special_tokens' does not define with its ids" },
        { """{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "B", "type_id": 0}}], "special_tokens": {}}""",
            "field 'post_processor.single[0]' must be the one sequence $A of a single template" },
        { """{"type": "BertProcessing", "sep": ["[SEP]"], "cls": ["[CLS]", 9]}""", "field 'post_processor.sep' must be [token, id]" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void AnUnsupportedPostProcessorIsRefusedNamingTheField(string postProcessor, string expected)
    {
        string path = With(postProcessor);
        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.FromTokenizerJson(path, 50256));
        Assert.StartsWith($"{path}: {expected}", e.Message);
    }

    [Fact]
    public void AnAddedTokenThatStripsWhitespaceIsRefused()
    {
        string path = With("null", j => j["added_tokens"]![0]!["lstrip"] = true);
        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.FromTokenizerJson(path, 50256));
        Assert.Equal($"{path}: field 'added_tokens[0].lstrip' true is not supported", e.Message);
    }
}
