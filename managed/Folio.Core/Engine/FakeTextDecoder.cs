using Folio.Core.Sampling;

namespace Folio.Core.Engine;

/// <summary>A trivial detokenizer for tests: token id → two letters of a..h (so stop strings can straddle tokens).</summary>
public sealed class FakeTextDecoder : ITextDecoder
{
    private const string Letters = "abcdefgh";
    private static readonly string[] Pieces = BuildPieces();

    public static string TextOf(int tokenId) => Pieces[tokenId % 64];

    private static string[] BuildPieces()
    {
        var pieces = new string[64];
        for (int i = 0; i < 64; i++)
            pieces[i] = string.Concat(Letters[i % 8], Letters[i / 8]);
        return pieces;
    }

    public string DecodeLast(ReadOnlySpan<int> generatedTokenIds) => TextOf(generatedTokenIds[^1]);
}
