using System.Text.Json;
using Folio.Core.Models;

namespace Folio.Cpu.Tests;

/// <summary>
/// Encodes each corpus line and decodes HF's ids for it, and fails naming the first lines whose ids or decoded
/// text differ from Hugging Face tokenizers'. Shared by every tokenizer parity suite.
/// </summary>
internal static class EncodeParity
{
    public static void AssertEqual(TextTokenizer tokenizer, IReadOnlyCollection<(string Text, int[] Ids, string Decoded)> lines)
    {
        var encodeMismatches = new List<string>();
        var decodeMismatches = new List<string>();
        foreach (var (text, ids, decoded) in lines)
        {
            var mine = tokenizer.Encode(text);
            if (!mine.SequenceEqual(ids))
                encodeMismatches.Add($"{JsonSerializer.Serialize(text)}: folio [{string.Join(",", mine)}] hf [{string.Join(",", ids)}]");
            string mineDecoded = tokenizer.Decode(ids);
            if (mineDecoded != decoded)
                decodeMismatches.Add($"{JsonSerializer.Serialize(text)}: folio {JsonSerializer.Serialize(mineDecoded)} hf {JsonSerializer.Serialize(decoded)}");
        }
        Assert.True(encodeMismatches.Count == 0, $"{encodeMismatches.Count} of {lines.Count} lines encode differently, e.g.\n" + string.Join("\n", encodeMismatches.Take(5)));
        Assert.True(decodeMismatches.Count == 0, $"{decodeMismatches.Count} lines decode differently, e.g.\n" + string.Join("\n", decodeMismatches.Take(5)));
    }
}
