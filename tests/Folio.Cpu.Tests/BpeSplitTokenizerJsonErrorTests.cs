using System.Text.Json.Nodes;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>A byte-level tokenizer.json whose pre-tokenizer or normalizer Folio cannot follow exactly is refused, naming the file and field.</summary>
public sealed class BpeSplitTokenizerJsonErrorTests
{
    private static string Write(Action<JsonNode> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(BpeSplitTokenizerParityTests.Load("llama3").TokenizerJson))!;
        edit(json);
        return Fixtures.WriteTokenizerJson("bpe-split", json);
    }

    private static JsonNode Step(JsonNode j, int i) => j["pre_tokenizer"]!["pretokenizers"]![i]!;

    public static TheoryData<string, string> Cases => new()
    {
        { "other-regex", "field 'pre_tokenizer.pretokenizers[0].pattern.Regex' is not a pattern checked" },
        { "string-pattern", "field 'pre_tokenizer.pretokenizers[0].pattern.Regex' is missing" },
        { "behavior-removed", "field 'pre_tokenizer.pretokenizers[0].behavior' 'Removed' is not supported" },
        { "inverted", "field 'pre_tokenizer.pretokenizers[0].invert' is not supported" },
        { "byte-level-regex", "field 'pre_tokenizer.pretokenizers[1].use_regex' must be false" },
        { "byte-level-prefix-space", "field 'pre_tokenizer.pretokenizers[1].add_prefix_space' is not supported" },
        { "three-steps", "field 'pre_tokenizer.pretokenizers' is [Split, ByteLevel, Digits]" },
        { "plain-byte-level-no-regex", "field 'pre_tokenizer.use_regex' must be true" },
        { "plain-byte-level-prefix-space", "field 'pre_tokenizer.add_prefix_space' is not supported" },
        { "nfkc-normalizer", "field 'normalizer' type 'NFKC' is not supported for byte-level BPE" },
        { "nfc-then-lowercase", "field 'normalizer.normalizers[1]' type 'Lowercase' is not supported for byte-level BPE (only NFC, alone or in a Sequence)" },
        { "sequence-without-list", "field 'normalizer.normalizers' is missing" },
        { "nfc-added-token-without-normalized", "field 'added_tokens[0].normalized' must be true or false" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsRefusedNamingTheField(string change, string expected)
    {
        string path = Write(j =>
        {
            switch (change)
            {
                case "other-regex": Step(j, 0)["pattern"]!["Regex"] = @"\p{L}+|\s+"; break;
                case "string-pattern": Step(j, 0)["pattern"] = new JsonObject { ["String"] = " " }; break;
                case "behavior-removed": Step(j, 0)["behavior"] = "Removed"; break;
                case "inverted": Step(j, 0)["invert"] = true; break;
                case "byte-level-regex": Step(j, 1)["use_regex"] = true; break;
                case "byte-level-prefix-space": Step(j, 1)["add_prefix_space"] = true; break;
                case "three-steps": j["pre_tokenizer"]!["pretokenizers"]!.AsArray().Add(new JsonObject { ["type"] = "Digits" }); break;
                case "nfc-then-lowercase":
                    j["normalizer"] = new JsonObject
                    {
                        ["type"] = "Sequence",
                        ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFC" }, new JsonObject { ["type"] = "Lowercase" }),
                    };
                    break;
                case "sequence-without-list": j["normalizer"] = new JsonObject { ["type"] = "Sequence" }; break;
                case "nfc-added-token-without-normalized":
                    j["normalizer"] = new JsonObject { ["type"] = "NFC" };
                    j["added_tokens"]![0]!.AsObject().Remove("normalized");
                    break;
                case "nfkc-normalizer": j["normalizer"] = new JsonObject { ["type"] = "NFKC" }; break;
                case "plain-byte-level-no-regex":
                    j["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false };
                    break;
                case "plain-byte-level-prefix-space":
                    j["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["use_regex"] = true };
                    break;
            }
        });
        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.FromTokenizerJson(path, 50256));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
