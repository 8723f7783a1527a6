using System.Text;

namespace Folio.Core.Models;

/// <summary>
/// A SentencePiece-style BPE tokenizer read from a Hugging Face <c>tokenizer.json</c> (Llama-2, Mistral): the
/// added tokens split the text first; each other segment is normalised (<see cref="SpmNormalization"/>), then
/// merged by rank over its characters, a character missing from the vocabulary becoming its UTF-8 bytes as
/// <c>&lt;0xNN&gt;</c> tokens (byte fallback) or the unknown token. It follows the Rust <c>tokenizers</c> crate
/// (BPE <c>merge_word</c> / <c>merge_all</c>); Microsoft.ML.Tokenizers' <c>BpeTokenizer</c> has no byte fallback and
/// its <c>SentencePieceTokenizer</c> reads only a <c>tokenizer.model</c> protobuf, whose score-ordered merging
/// differs from a tokenizer.json's ranked merges.
/// </summary>
internal sealed class SentencePieceBpe
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly Dictionary<int, string> _tokens;
    private readonly BpeMerges _merges = new();
    private readonly int[] _byteIds;
    private readonly int? _unkId;
    private readonly bool _fuseUnk;
    private readonly (string Content, int Id)[] _added;
    private readonly Dictionary<int, string> _addedById;
    private readonly SpmNormalization _normalization;
    private readonly SpmDecoder _decoder;

    public SentencePieceBpe(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, bool byteFallback,
        string? unkToken, bool fuseUnk, IReadOnlyList<(string Content, int Id)> added, SpmNormalization normalization,
        SpmDecoder decoder, string path)
    {
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _tokens = [];
        foreach (var (token, id) in vocab)
            _tokens[id] = token;
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out int a) || !vocab.TryGetValue(right, out int b))
                throw new ModelFormatException($"{path}: field 'model.merges[{rank}]' names a token missing from 'model.vocab'");
            if (!vocab.TryGetValue(left + right, out int merged))
                throw new ModelFormatException($"{path}: field 'model.merges[{rank}]': the merged token is missing from 'model.vocab'");
            _merges.TryAdd(a, b, rank, merged);
        }
        _byteIds = new int[256];
        bool allBytes = byteFallback;
        for (int b = 0; b < 256; b++)
        {
            _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
            allBytes &= _byteIds[b] >= 0;
        }
        if (unkToken is not null)
        {
            if (!vocab.TryGetValue(unkToken, out int unk))
                throw new ModelFormatException($"{path}: field 'model.unk_token' '{unkToken}' is not in 'model.vocab'");
            _unkId = unk;
        }
        // Every character must have some encoding, so that Encode cannot fail on any text.
        if (!allBytes && _unkId is null)
            throw new ModelFormatException($"{path}: field 'model.unk_token' is missing and byte fallback does not cover all 256 bytes");
        _fuseUnk = fuseUnk;
        _added = [.. added.OrderByDescending(a => a.Content.Length)];
        _addedById = [];
        foreach (var (content, id) in added)
            _addedById[id] = content;
        _normalization = normalization;
        _decoder = decoder;
        ByteFallback = byteFallback;
        MaxTokenId = Math.Max(_tokens.Count == 0 ? -1 : _tokens.Keys.Max(), _addedById.Count == 0 ? -1 : _addedById.Keys.Max());
    }

    public bool ByteFallback { get; }

    /// <summary>The highest id <see cref="Encode"/> can return or <see cref="Decode"/> knows.</summary>
    public int MaxTokenId { get; }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        int segmentStart = 0;
        for (int i = 0; i < text.Length;)
        {
            var match = AddedAt(text, i);
            if (match is null)
            {
                i++;
                continue;
            }
            EncodeSegment(text, segmentStart, i, ids);
            ids.Add(match.Value.Id);
            i += match.Value.Content.Length;
            segmentStart = i;
        }
        EncodeSegment(text, segmentStart, text.Length, ids);
        return ids;
    }

    /// <summary>The longest added token starting at <paramref name="at"/> (leftmost-longest matching).</summary>
    private (string Content, int Id)? AddedAt(string text, int at)
    {
        foreach (var a in _added)
            if (a.Content.Length > 0 && string.CompareOrdinal(text, at, a.Content, 0, a.Content.Length) == 0)
                return a;
        return null;
    }

    private void EncodeSegment(string text, int start, int end, List<int> ids)
    {
        if (end <= start)
            return;
        foreach (string word in _normalization.Apply(text[start..end], start == 0))
            EncodeWord(word, ids);
    }

    private void EncodeWord(string word, List<int> ids)
    {
        var symId = new List<int>(word.Length);
        int? unk = null;
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < word.Length;)
        {
            int len = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var ch = word.AsSpan(i, len);
            i += len;
            if (_vocabBySpan.TryGetValue(ch, out int id))
            {
                if (unk is int u)
                {
                    symId.Add(u);
                    unk = null;
                }
                symId.Add(id);
                continue;
            }
            if (ByteFallback)
            {
                int n = Encoding.UTF8.GetBytes(ch, utf8);
                bool all = true;
                for (int k = 0; k < n; k++)
                    all &= _byteIds[utf8[k]] >= 0;
                if (all)
                {
                    for (int k = 0; k < n; k++)
                        symId.Add(_byteIds[utf8[k]]);
                    continue;   // a pending unknown stays pending, as in tokenizers
                }
            }
            int unkId = _unkId!.Value;
            if (unk is int pending && !_fuseUnk)
                symId.Add(pending);
            unk = unkId;
        }
        if (unk is int last)
            symId.Add(last);
        _merges.MergeAll(symId);
        ids.AddRange(symId);
    }

    /// <summary>The byte a byte-fallback token stands for, or null.</summary>
    public int? ByteOf(int id) => _tokens.TryGetValue(id, out string? t) ? SpmDecoder.ParseByteToken(t) : null;

    /// <summary>A piece's bytes ('▁' as a space; a byte-fallback token its byte); null for added tokens, the unknown
    /// token and unknown ids.</summary>
    public byte[]? TokenBytes(int id)
    {
        if (_addedById.ContainsKey(id) || id == _unkId || !_tokens.TryGetValue(id, out string? t))
            return null;
        if (SpmDecoder.ParseByteToken(t) is int b)
            return [(byte)b];
        return System.Text.Encoding.UTF8.GetBytes(t.Replace('\u2581', ' '));
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
            if (_addedById.TryGetValue(id, out string? a) || _tokens.TryGetValue(id, out a))
                tokens.Add(a);   // unknown ids are skipped, as tokenizers does
        return _decoder.Decode(tokens);
    }
}
