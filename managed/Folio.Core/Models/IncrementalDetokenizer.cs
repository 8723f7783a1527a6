using Folio.Core.Sampling;

namespace Folio.Core.Models;

/// <summary>
/// Streaming text for generated tokens: the text that the last token adds, never a broken character. Byte-level
/// tokens can end inside a UTF-8 sequence (an emoji is often 2–4 tokens); such a token adds nothing until the
/// token that completes the character arrives, which then adds the whole character. Decodes a short window of
/// the latest tokens, so the cost per token is constant: text(window) − text(window without its last token),
/// with trailing incomplete characters (U+FFFD from a cut sequence) held back.
/// </summary>
/// <remarks>
/// SentencePiece byte-fallback tokens (<c>&lt;0xNN&gt;</c>) need more: Hugging Face's ByteFallback decoder turns a
/// whole run of byte tokens into U+FFFD when any part of it is not valid UTF-8, so a run cut at either end would
/// lose characters that are already complete. The window therefore ends before a trailing incomplete character
/// (<see cref="CompleteEnd"/>) and starts on a token that is not a UTF-8 continuation byte.
/// </remarks>
public sealed class IncrementalDetokenizer(TextTokenizer tokenizer) : ITextDecoder
{
    /// <summary>Tokens decoded together: enough to hold any UTF-8 character's bytes (at most 4 byte tokens)
    /// plus context before it.</summary>
    private const int Window = 8;

    public string DecodeLast(ReadOnlySpan<int> generatedTokenIds)
    {
        if (generatedTokenIds.IsEmpty)
            return "";
        int end = CompleteEnd(generatedTokenIds);
        int previousEnd = CompleteEnd(generatedTokenIds[..^1]);
        if (end == previousEnd)
            return "";   // the last token is a byte of a character still incomplete
        int start = Math.Max(0, Math.Min(previousEnd, end - Window));
        while (start > 0 && IsContinuationByte(generatedTokenIds[start]))
            start--;
        string before = Complete(tokenizer.Decode(generatedTokenIds[start..previousEnd]));
        string after = Complete(tokenizer.Decode(generatedTokenIds[start..end]));
        // `after` extends `before` for byte-level BPE (decoding is byte concatenation); anything else (a
        // normaliser that rewrites earlier text) falls back to the part past the common prefix.
        if (after.StartsWith(before, StringComparison.Ordinal))
            return after[before.Length..];
        int common = 0;
        while (common < before.Length && common < after.Length && before[common] == after[common])
            common++;
        return after[common..];
    }

    /// <summary>
    /// How many of the tokens to decode: all, unless they end in byte-fallback tokens that begin a UTF-8
    /// character without all its bytes yet — then up to that character's lead byte. (Always all for byte-level
    /// BPE, whose tokens are not byte-fallback tokens.)
    /// </summary>
    private int CompleteEnd(ReadOnlySpan<int> ids)
    {
        int continuations = 0;
        for (int i = ids.Length - 1; i >= 0 && continuations <= 3; i--)
        {
            if (tokenizer.ByteOf(ids[i]) is not int b)
                return ids.Length;
            if ((b & 0xC0) == 0x80)
            {
                continuations++;
                continue;
            }
            int needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return continuations + 1 < needed ? i : ids.Length;
        }
        return ids.Length;   // no lead byte: invalid bytes, decoded (as U+FFFD) like any others
    }

    private bool IsContinuationByte(int id) => tokenizer.ByteOf(id) is int b && (b & 0xC0) == 0x80;

    /// <summary>Drops trailing U+FFFD: bytes of a character whose remaining bytes are still to come.</summary>
    private static string Complete(string text)
    {
        int end = text.Length;
        while (end > 0 && text[end - 1] == '\uFFFD')
            end--;
        return text[..end];
    }
}
