using Folio.Core.Models;

namespace Folio.Cpu.Tests;

public sealed class DetokenizerTests
{
    [Theory]
    [InlineData("Hello 👨‍👩‍👧‍👦 world 🙂 — 你好世界 naïve")]
    [InlineData("🇫🇷🏳️‍🌈 😀😀😀 end")]
    [InlineData("  leading spaces and\ttabs\n\nnewlines ")]
    public void StreamedPiecesConcatenateToTheTextAndNeverSplitACharacter(string text)
    {
        var tokenizer = TextTokenizer.Gpt2();
        int[] ids = [.. tokenizer.Encode(text)];
        Assert.True(ids.Length > 5);
        var detokenizer = new IncrementalDetokenizer(tokenizer);
        var streamed = new System.Text.StringBuilder();
        int heldBack = 0;
        for (int n = 1; n <= ids.Length; n++)
        {
            string piece = detokenizer.DecodeLast(ids.AsSpan(0, n));
            Assert.DoesNotContain('\uFFFD', piece);
            Assert.False(piece.Length > 0 && char.IsLowSurrogate(piece[0]), $"piece {n} starts inside a surrogate pair");
            Assert.False(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), $"piece {n} ends inside a surrogate pair");
            if (piece.Length == 0)
                heldBack++;
            streamed.Append(piece);
        }
        Assert.Equal(text, streamed.ToString());
        if (text.Contains("🙂", StringComparison.Ordinal) || text.Contains("😀", StringComparison.Ordinal))
            Assert.True(heldBack > 0, "an emoji spans several byte tokens, so some token must add nothing");
    }
}
