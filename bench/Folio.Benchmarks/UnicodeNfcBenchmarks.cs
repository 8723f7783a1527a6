using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Folio.Core.Models;
using Folio.Core.Text;

namespace Folio.Benchmarks;

/// <summary>
/// <see cref="UnicodeNfc"/> on the tokenizer parity corpus (tests/fixtures/hf/tokenizer/gpt2/parity.json, 5,210
/// lines in many scripts, all NFC already), joined into one text of ~0.5 M chars: the quick-check fast path on
/// it as is, and on its ASCII lines only; the slow path on its NFD form (tests/fixtures/hf/tokenizer/bpe_nfc,
/// 2,697 lines decomposed, the rest as is). Baselines in the same run: copying the text (<c>new string</c>), and
/// encoding it with the Qwen2-style byte-level tokenizer (GPT-2's vocabulary) without and with the NFC
/// normalizer, which puts NFC's cost next to the work it precedes. Divide by the Chars column for ns/char.
/// </summary>
[ShortJob]
[MemoryDiagnoser]
[MinColumn, MedianColumn, MaxColumn]
public class UnicodeNfcBenchmarks
{
    private string _mixed = "", _ascii = "", _nfd = "";
    private TextTokenizer _plain = null!, _nfc = null!;

    [GlobalSetup]
    public void Setup()
    {
        string dir = FindTokenizerFixtures();
        using var gpt2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "gpt2", "parity.json")));
        var lines = gpt2.RootElement.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!).ToArray();
        var nfc = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "bpe_nfc", "parity.json")))!;
        var nfdOf = nfc["nfd_of"]!.AsArray().Select(x => (int)x!).ToArray();
        var nfdTexts = nfc["nfd_texts"]!.AsArray().Select(x => (string)x!).ToArray();
        var decomposed = (string[])lines.Clone();
        for (int k = 0; k < nfdOf.Length; k++)
            if (nfdOf[k] < decomposed.Length)
                decomposed[nfdOf[k]] = nfdTexts[k];
        _mixed = string.Join("\n", lines);
        _ascii = string.Join("\n", lines.Where(l => l.All(char.IsAscii)));
        _nfd = string.Join("\n", decomposed);
        if (!UnicodeNfc.IsQuickCheckYes(_mixed) || UnicodeNfc.Normalize(_nfd) != _mixed)
            throw new InvalidOperationException("the corpus is not NFC, or its NFD form does not normalize back to it");

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "gpt2", "tokenizer.json")))!;
        json["pre_tokenizer"] = nfc["pre_tokenizer"]!.DeepClone();
        _plain = Write(json, "plain");
        json["normalizer"] = new JsonObject { ["type"] = "NFC" };
        _nfc = Write(json, "nfc");
        Console.WriteLine($"// chars: mixed {_mixed.Length}, ascii {_ascii.Length}, nfd {_nfd.Length}");
    }

    private static TextTokenizer Write(JsonNode json, string name)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"folio-bench-nfc-{Environment.ProcessId}-{name}");
        Directory.CreateDirectory(folder);
        string file = Path.Combine(folder, "tokenizer.json");
        File.WriteAllText(file, json.ToJsonString());
        return TextTokenizer.FromTokenizerJson(file, 50256);
    }

    private static string FindTokenizerFixtures()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "tests", "fixtures", "hf", "tokenizer");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures/hf/tokenizer not found above " + AppContext.BaseDirectory);
    }

    [Benchmark(Baseline = true)]
    public int CopyBaseline() => new string(_mixed.AsSpan()).Length;

    [Benchmark]
    public int NfcAsciiQuickCheck() => UnicodeNfc.Normalize(_ascii).Length;

    [Benchmark]
    public int NfcMixedQuickCheck() => UnicodeNfc.Normalize(_mixed).Length;

    [Benchmark]
    public int NfcDecomposed() => UnicodeNfc.Normalize(_nfd).Length;

    [Benchmark]
    public int EncodeWithoutNormalizer() => _plain.Encode(_mixed).Count;

    [Benchmark]
    public int EncodeWithNfc() => _nfc.Encode(_mixed).Count;

    [Benchmark]
    public int EncodeDecomposedWithNfc() => _nfc.Encode(_nfd).Count;
}
