using System.Text;
using System.Text.Json;

namespace Folio.Structured;

/// <summary>
/// Token byte strings from a Hugging Face byte-level BPE <c>tokenizer.json</c> (GPT-2, Llama 3, Qwen2): each vocab
/// entry's characters map back to bytes through GPT-2's byte↔unicode table. Added tokens marked special are left
/// out (null), so no grammar emits them; the end-of-sequence id is taken from the caller.
/// </summary>
public static class ByteLevelVocabulary
{
    public static TokenVocabulary Load(string tokenizerJsonPath, int? eosTokenId)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath));
        var root = doc.RootElement;
        var vocab = root.GetProperty("model").GetProperty("vocab");
        var special = new HashSet<int>();
        var added = new Dictionary<int, string>();
        if (root.TryGetProperty("added_tokens", out var list))
            foreach (var a in list.EnumerateArray())
            {
                int id = a.GetProperty("id").GetInt32();
                if (a.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True) special.Add(id);
                else added[id] = a.GetProperty("content").GetString()!;
            }
        int size = 0;
        foreach (var e in vocab.EnumerateObject()) size = Math.Max(size, e.Value.GetInt32() + 1);
        foreach (var id in special.Concat(added.Keys)) size = Math.Max(size, id + 1);
        var bytes = new byte[]?[size];
        var table = UnicodeToByte();
        foreach (var e in vocab.EnumerateObject())
        {
            int id = e.Value.GetInt32();
            if (special.Contains(id)) continue;
            var s = e.Name;
            var b = new byte[s.Length];
            bool ok = true;
            for (int i = 0; i < s.Length; i++)
            {
                if (!table.TryGetValue(s[i], out byte v)) { ok = false; break; }
                b[i] = v;
            }
            bytes[id] = ok ? b : null;
        }
        // Non-special added tokens are literal text.
        foreach (var (id, content) in added) bytes[id] ??= Encoding.UTF8.GetBytes(content);
        return new TokenVocabulary(bytes, eosTokenId);
    }

    /// <summary>GPT-2's table: printable Latin-1 bytes stand for themselves; the other 68 bytes map to U+0100 onwards.</summary>
    private static Dictionary<char, byte> UnicodeToByte()
    {
        var map = new Dictionary<char, byte>();
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[printable ? (char)b : (char)(256 + n++)] = (byte)b;
        }
        return map;
    }
}
