using System.Text.Json.Nodes;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>A SentencePiece-style tokenizer.json that Folio cannot follow exactly is refused, naming the file and field.</summary>
public sealed class SpmTokenizerJsonErrorTests
{
    private static string Write(string variant, Action<JsonNode> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.Root, "hf", "tokenizer", "spm", $"{variant}.tokenizer.json")))!;
        edit(json);
        return Fixtures.WriteTokenizerJson("spm", json);
    }

    public static TheoryData<string, string, string> Cases => new()
    {
        { "metaspace", "sequence-pre-tokenizer", "field 'pre_tokenizer.pretokenizers' is []: only [Split, ByteLevel]" },
        { "metaspace", "bad-prepend-scheme", "field 'pre_tokenizer.prepend_scheme' 'sometimes'" },
        { "legacy", "regex-replace", "field 'normalizer.normalizers[1].pattern'" },
        { "legacy", "unknown-normalizer", "field 'normalizer.normalizers[0]' type 'NFKC'" },
        { "legacy", "unknown-decoder", "field 'decoder.decoders[0]' type 'CTC'" },
        { "legacy", "merge-of-unknown-token", "field 'model.merges[0]' names a token missing" },
        { "legacy", "lstrip-added-token", "field 'added_tokens[1].lstrip' true is not supported" },
        { "legacy", "vocab-id-string", "field 'model.vocab.<unk>' must be a non-negative integer id" },
        { "legacy", "no-decoder", "field 'decoder' is missing" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsRefusedNamingTheField(string variant, string change, string expected)
    {
        string path = Write(variant, j =>
        {
            switch (change)
            {
                case "sequence-pre-tokenizer":
                    j["pre_tokenizer"] = new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray() };
                    break;
                case "bad-prepend-scheme":
                    j["pre_tokenizer"]!["prepend_scheme"] = "sometimes";
                    break;
                case "regex-replace":
                    j["normalizer"]!["normalizers"]![1]!["pattern"] = new JsonObject { ["Regex"] = " +" };
                    break;
                case "unknown-normalizer":
                    j["normalizer"]!["normalizers"]![0] = new JsonObject { ["type"] = "NFKC" };
                    break;
                case "unknown-decoder":
                    j["decoder"]!["decoders"]![0] = new JsonObject { ["type"] = "CTC" };
                    break;
                case "merge-of-unknown-token":
                    j["model"]!["merges"]![0] = new JsonArray("nope", "x");
                    break;
                case "lstrip-added-token":
                    j["added_tokens"]![1]!["lstrip"] = true;
                    break;
                case "vocab-id-string":
                    j["model"]!["vocab"]!["<unk>"] = "zero";
                    break;
                case "no-decoder":
                    j["decoder"] = null;
                    break;
            }
        });
        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.FromTokenizerJson(path, 2));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }
}
