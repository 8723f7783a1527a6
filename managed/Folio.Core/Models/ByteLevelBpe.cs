using System.Text;

namespace Folio.Core.Models;

/// <summary>
/// Byte-level BPE (GPT-2, Llama-3, Qwen2/3) as the Rust <c>tokenizers</c> crate runs it: the optional NFC
/// normalizer (<see cref="ByteLevelNfc"/>), added tokens cut out, the regex split
/// (<see cref="CodePointRegexPreTokenizer"/>), then each piece's UTF-8 bytes as byte symbols merged by rank
/// (<see cref="BpeMerges"/>, O(n log n) in the piece's length). With <c>ignore_merges</c> (Llama-3) a piece that
/// is itself a vocabulary entry becomes that id without merging, which can differ from what the merges build.
/// Written here rather than through Microsoft.ML.Tokenizers, whose BPE has no <c>ignore_merges</c> and whose
/// merge loop is quadratic in the length of a piece.
/// </summary>
internal sealed class ByteLevelBpe
{
    /// <summary>GPT-2's <c>bytes_to_unicode</c>: each byte as the char that stands for it in vocabulary entries
    /// (printable Latin-1 as itself, the rest from U+0100 on).</summary>
    private static readonly char[] ByteChars = BuildByteChars();

    /// <summary>The inverse of <see cref="ByteChars"/> for chars below U+0144; −1 elsewhere.</summary>
    private static readonly short[] CharBytes = BuildCharBytes();

    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocab;
    private readonly Dictionary<int, string> _tokens = [];
    private readonly int[] _byteIds = new int[256];
    private readonly BpeMerges _merges;
    private readonly bool _ignoreMerges;
    private readonly Dictionary<int, string> _added = [];
    private readonly CodePointRegexPreTokenizer _pre;
    private readonly ByteLevelNfc? _nfc;

    /// <param name="vocab">token (in byte chars) → id; must hold all 256 single-byte tokens.</param>
    /// <param name="merges">ranked merges over <paramref name="vocab"/>'s ids.</param>
    /// <param name="added">every added token (content, id); the pre-tokenizer cuts them out.</param>
    public ByteLevelBpe(Dictionary<string, int> vocab, BpeMerges merges, bool ignoreMerges, IReadOnlyList<(string Content, int Id)> added,
        CodePointRegexPreTokenizer pre, ByteLevelNfc? nfc, string source)
    {
        _vocab = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var (token, id) in vocab)
            _tokens[id] = token;
        for (int b = 0; b < 256; b++)
            _byteIds[b] = vocab.TryGetValue(ByteChars[b].ToString(), out int id) ? id
                // Without all 256 a byte would need the unknown token; no byte-level file in use lacks any.
                : throw new ModelFormatException($"{source}: field 'model.vocab' lacks the byte-level token for byte 0x{b:X2} ('{ByteChars[b]}')");
        _merges = merges;
        _ignoreMerges = ignoreMerges;
        foreach (var (content, id) in added)
            _added[id] = content;
        _pre = pre;
        _nfc = nfc;
        MaxTokenId = Math.Max(_tokens.Count == 0 ? -1 : _tokens.Keys.Max(), _added.Count == 0 ? -1 : _added.Keys.Max());
    }

    /// <summary>The highest id <see cref="Encode"/> can return or <see cref="Decode"/> knows.</summary>
    public int MaxTokenId { get; }

    /// <summary>The vocabulary token (in byte chars) of <paramref name="bytes"/>.</summary>
    public static string ToByteChars(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            chars[i] = ByteChars[bytes[i]];
        return new string(chars);
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        if (_nfc is null)
            EncodeNormalized(text, ids);
        else
            _nfc.Encode(text, EncodeNormalized, ids);
        return ids;
    }

    /// <summary>Encodes text already normalized: added tokens and regex pieces, each piece merged on its own.</summary>
    private void EncodeNormalized(string text, List<int> ids)
    {
        var symbols = new List<int>();
        foreach (var (offset, length, addedId) in _pre.PreTokenize(text))
        {
            if (addedId >= 0)
            {
                ids.Add(addedId);
                continue;
            }
            EncodePiece(text.AsSpan(offset, length), symbols);
            ids.AddRange(symbols);
        }
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> symbols)
    {
        symbols.Clear();
        // Lone surrogates become U+FFFD's bytes, as a Rust string (which cannot hold them) receives them.
        byte[] utf8 = Encoding.UTF8.GetBytes(piece.ToArray());
        if (_ignoreMerges)
        {
            string token = ToByteChars(utf8);
            if (_vocab.TryGetValue(token, out int whole))
            {
                symbols.Add(whole);
                return;
            }
        }
        foreach (byte b in utf8)
            symbols.Add(_byteIds[b]);
        _merges.MergeAll(symbols);
    }

    /// <summary>
    /// As tokenizers' ByteLevel decoder: each token's chars back to bytes, or the token's own UTF-8 when a char
    /// has no byte (an added token such as "&lt;think&gt; x" with a space); added tokens take precedence over
    /// the vocabulary, unknown ids are skipped, and invalid UTF-8 becomes U+FFFD per maximal subpart (as Rust's
    /// <c>from_utf8_lossy</c>).
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            if (!_added.TryGetValue(id, out string? token) && !_tokens.TryGetValue(id, out token))
                continue;
            int start = bytes.Count;
            bool mapped = true;
            foreach (char c in token)
            {
                if (c >= CharBytes.Length || CharBytes[c] < 0)
                {
                    mapped = false;
                    break;
                }
                bytes.Add((byte)CharBytes[c]);
            }
            if (!mapped)
            {
                bytes.RemoveRange(start, bytes.Count - start);
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>A vocabulary token's bytes (its chars through the byte table); null for added tokens and unknown ids.</summary>
    public byte[]? TokenBytes(int id)
    {
        if (_added.ContainsKey(id) || !_tokens.TryGetValue(id, out string? token))
            return null;
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            char c = token[i];
            if (c >= CharBytes.Length || CharBytes[c] < 0)
                return Encoding.UTF8.GetBytes(token);   // as Decode: a token outside the byte table is its own UTF-8
            bytes[i] = (byte)CharBytes[c];
        }
        return bytes;
    }

    private static char[] BuildByteChars()
    {
        var chars = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            chars[b] = printable ? (char)b : (char)(256 + next++);
        }
        return chars;
    }

    private static short[] BuildCharBytes()
    {
        var map = new short[0x144];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++)
            map[ByteChars[b]] = (short)b;
        return map;
    }
}
