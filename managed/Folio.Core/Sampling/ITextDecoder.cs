namespace Folio.Core.Sampling;

/// <summary>
/// The detokenizer seam, used for output text and stop strings. Given a sequence's generated token ids so far,
/// returns the text that the last of them adds (a real tokenizer needs the earlier ids: byte-level pieces and
/// word-start spaces depend on context). Concatenating the results for ids 1..n gives the output text.
/// </summary>
public interface ITextDecoder
{
    string DecodeLast(ReadOnlySpan<int> generatedTokenIds);
}
