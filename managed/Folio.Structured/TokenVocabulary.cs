namespace Folio.Structured;

/// <summary>
/// The vocabulary a grammar is matched against: token id → byte string (null for tokens a grammar never emits,
/// such as special tokens), plus the end-of-sequence id that <see cref="GrammarMatcher.CanStop"/> governs.
/// </summary>
public sealed class TokenVocabulary
{
    public TokenVocabulary(IReadOnlyList<byte[]?> tokenBytes, int? eosTokenId)
    {
        TokenBytes = tokenBytes;
        EosTokenId = eosTokenId;
        Trie = new TokenTrie(tokenBytes);
    }

    public IReadOnlyList<byte[]?> TokenBytes { get; }
    public int? EosTokenId { get; }
    public int Size => TokenBytes.Count;
    public TokenTrie Trie { get; }

    /// <summary>Words (64-bit) of a mask over this vocabulary.</summary>
    public int MaskWords => (Size + 63) / 64;
}
