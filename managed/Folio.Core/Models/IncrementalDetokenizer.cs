using Folio.Core.Sampling;

namespace Folio.Core.Models;

/// <summary>
/// Streaming text for generated tokens: the text that the last token adds, never a broken character. Byte-level
/// tokens can end inside a UTF-8 sequence (an emoji is often 2–4 tokens); such a token adds nothing until the
/// token that completes the character arrives, which then adds the whole character. Decodes a short window of
/// the latest tokens, so the cost per token is constant: text(window) − text(window without its last token),
/// with trailing incomplete characters (U+FFFD from a cut sequence) held back.
/// </summary>
public sealed class IncrementalDetokenizer(TextTokenizer tokenizer) : ITextDecoder
{
    /// <summary>Tokens decoded together: enough to hold any UTF-8 character's bytes (at most 4 byte tokens)
    /// plus context before it.</summary>
    private const int Window = 8;

    public string DecodeLast(ReadOnlySpan<int> generatedTokenIds)
    {
        if (generatedTokenIds.IsEmpty)
            return "";
        int start = Math.Max(0, generatedTokenIds.Length - Window);
        string before = Complete(tokenizer.Decode(generatedTokenIds[start..^1]));
        string after = Complete(tokenizer.Decode(generatedTokenIds[start..]));
        // `after` extends `before` for byte-level BPE (decoding is byte concatenation); anything else (a
        // normaliser that rewrites earlier text) falls back to the part past the common prefix.
        if (after.StartsWith(before, StringComparison.Ordinal))
            return after[before.Length..];
        int common = 0;
        while (common < before.Length && common < after.Length && before[common] == after[common])
            common++;
        return after[common..];
    }

    /// <summary>Drops trailing U+FFFD: bytes of a character whose remaining bytes are still to come.</summary>
    private static string Complete(string text)
    {
        int end = text.Length;
        while (end > 0 && text[end - 1] == '\uFFFD')
            end--;
        return text[..end];
    }
}
