using System.Text.Json;
using System.Text.Json.Nodes;

namespace Folio.Core.Models.Gguf;

/// <summary>
/// The tokenizer of a GGUF file, built from its metadata as the Hugging Face tokenizer.json that llama.cpp's
/// converter read it from, then loaded by the same code as a folder's tokenizer.json (so it is held to the same
/// checks against HF). <c>tokenizer.ggml.model</c>:
/// <list type="bullet">
/// <item><c>gpt2</c> (byte-level BPE): <c>tokens</c> in id order, <c>merges</c> ("a b"), and the pre-tokenizer named
/// by <c>tokenizer.ggml.pre</c>: <c>gpt-2</c>, <c>llama-bpe</c> (Llama-3's split, ignore_merges) or <c>qwen2</c>
/// (Qwen2's split and NFC); others are refused naming the value.</item>
/// <item><c>llama</c> (SentencePiece BPE with byte fallback): <c>tokens</c> and <c>scores</c>; the merges are
/// derived as transformers' SentencePieceExtractor derives them from a tokenizer.model (every split of a piece
/// into two pieces, ordered by the merged piece's score, highest first), with Llama-2's legacy normalizer
/// (prepend ▁, spaces to ▁) and decoder.</item>
/// </list>
/// Tokens of <c>token_type</c> 3 (control) and 4 (user-defined) are added tokens, as in the source file.
/// </summary>
public static class GgufTokenizer
{
    private const int TypeControl = 3, TypeUserDefined = 4;

    /// <summary>The tokenizer, or null when the file has no tokenizer metadata.</summary>
    public static TextTokenizer? From(string source, IReadOnlyDictionary<string, object> metadata, int? eosTokenId)
    {
        if (!metadata.TryGetValue("tokenizer.ggml.model", out object? modelValue))
            return null;
        string where = $"{source}: metadata";
        string kind = modelValue as string ?? throw new ModelFormatException($"{where} 'tokenizer.ggml.model' must be a string");
        string[] tokens = metadata.TryGetValue("tokenizer.ggml.tokens", out var t) && t is string[] ts ? ts
            : throw new ModelFormatException($"{where} 'tokenizer.ggml.tokens' is missing or not an array of strings");
        long[] types = metadata.TryGetValue("tokenizer.ggml.token_type", out var ty) ? ty as long[]
            ?? throw new ModelFormatException($"{where} 'tokenizer.ggml.token_type' must be an array of integers") : [];
        if (types.Length is not 0 && types.Length != tokens.Length)
            throw new ModelFormatException($"{where} 'tokenizer.ggml.token_type' has {types.Length} entries for {tokens.Length} tokens");
        var root = kind switch
        {
            "gpt2" => ByteLevel(where, metadata, tokens),
            "llama" => SentencePiece(where, metadata, tokens, types),
            _ => throw new ModelFormatException($"{where} 'tokenizer.ggml.model' '{kind}' is not supported (gpt2, llama)"),
        };
        var added = new JsonArray();
        for (int id = 0; id < types.Length; id++)
            if (types[id] is TypeControl or TypeUserDefined)
                added.Add((JsonNode)new JsonObject
                {
                    ["id"] = id, ["content"] = tokens[id], ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                    ["normalized"] = false, ["special"] = types[id] == TypeControl,
                });
        root["added_tokens"] = added;
        using var doc = JsonDocument.Parse(root.ToJsonString());
        return TextTokenizer.FromJson($"{source} (tokenizer metadata)", doc.RootElement, Path.GetFileName(source), eosTokenId);
    }

    private static JsonObject Vocab(string[] tokens)
    {
        var vocab = new JsonObject();
        for (int id = 0; id < tokens.Length; id++)
            vocab.TryAdd(tokens[id], id);   // a repeated string keeps its first id, as a JSON object keeps one
        return vocab;
    }

    private static JsonObject ByteLevel(string where, IReadOnlyDictionary<string, object> metadata, string[] tokens)
    {
        string[] merges = metadata.TryGetValue("tokenizer.ggml.merges", out var m) && m is string[] ms ? ms
            : throw new ModelFormatException($"{where} 'tokenizer.ggml.merges' is missing or not an array of strings");
        string pre = metadata.TryGetValue("tokenizer.ggml.pre", out var p) && p is string ps ? ps : "gpt-2";
        JsonObject ByteLevelStep(bool useRegex) => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = useRegex };
        JsonObject Split(string pattern) => new()
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                ByteLevelStep(false)),
        };
        (JsonObject preTokenizer, JsonNode? normalizer, bool ignoreMerges) = pre switch
        {
            "gpt-2" or "default" => (ByteLevelStep(true), (JsonNode?)null, false),
            "llama-bpe" or "llama3" => (Split(ByteLevelBpeJson.Llama3Pattern), null, true),
            "qwen2" => (Split(ByteLevelBpeJson.Qwen2Pattern), new JsonObject { ["type"] = "NFC" }, false),
            _ => throw new ModelFormatException($"{where} 'tokenizer.ggml.pre' '{pre}' is not supported (gpt-2, llama-bpe, qwen2)"),
        };
        return new JsonObject
        {
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = null,
            ["decoder"] = ByteLevelStep(true),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = ignoreMerges,
                ["vocab"] = Vocab(tokens), ["merges"] = new JsonArray([.. merges.Select(x => (JsonNode)x)]),
            },
        };
    }

    private static JsonObject SentencePiece(string where, IReadOnlyDictionary<string, object> metadata, string[] tokens, long[] types)
    {
        float[] scores = metadata.TryGetValue("tokenizer.ggml.scores", out var s) && s is float[] fs && fs.Length == tokens.Length ? fs
            : throw new ModelFormatException($"{where} 'tokenizer.ggml.scores' is missing or not one float per token");
        long? unkId = metadata.TryGetValue("tokenizer.ggml.unknown_token_id", out var u) ? u as long? : null;
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++)
            ids.TryAdd(tokens[id], id);
        // transformers' SentencePieceExtractor: for each piece, every (left, right) split into two pieces,
        // ordered by the ids of left and right; all of them then stably ordered by the piece's score, highest first.
        var merges = new List<(string Left, string Right, float Score, int Order)>();
        for (int id = 0; id < tokens.Length; id++)
        {
            string piece = tokens[id];
            if (ids[piece] != id)
                continue;
            var local = new List<(string, string, int, int)>();
            for (int cut = 1; cut < piece.Length; cut++)
            {
                if (char.IsLowSurrogate(piece[cut]))
                    continue;   // a split inside a code point is no piece
                string left = piece[..cut], right = piece[cut..];
                if (ids.TryGetValue(left, out int l) && ids.TryGetValue(right, out int r))
                    local.Add((left, right, l, r));
            }
            foreach (var (left, right, _, _) in local.OrderBy(x => x.Item3).ThenBy(x => x.Item4))
                merges.Add((left, right, scores[id], merges.Count));
        }
        var ordered = merges.OrderByDescending(x => x.Score).ThenBy(x => x.Order);
        string unk = unkId is long uid && uid >= 0 && uid < tokens.Length ? tokens[uid] : "<unk>";
        return new JsonObject
        {
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["post_processor"] = null,
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = unk, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = true, ["byte_fallback"] = true, ["ignore_merges"] = false,
                ["vocab"] = Vocab(tokens),
                ["merges"] = new JsonArray([.. ordered.Select(x => (JsonNode)new JsonArray(x.Left, x.Right))]),
            },
        };
    }
}
