using System.Text;
using Folio.Core.Sampling;

namespace Folio.Structured;

/// <summary>
/// Core's per-sequence <see cref="ITokenConstraint"/> over a <see cref="GrammarMatcher"/>. Forced tokens are the
/// grammar's forced bytes (<see cref="GrammarMatcher.ForcedBytes"/>) tokenized by the model's tokenizer
/// (<paramref name="encode"/>), so a fast-forwarded key reads as the model would write it.
/// </summary>
internal sealed class GrammarConstraint(GrammarMatcher matcher, TokenVocabulary vocabulary, Func<string, IReadOnlyList<int>> encode) : ITokenConstraint
{
    /// <summary>Forced bytes looked at after one token at most.</summary>
    public const int MaxForcedBytes = 256;

    public void ComputeMask(Span<ulong> mask) => matcher.ComputeMask(mask);

    public bool Accept(int tokenId) => matcher.Accept(tokenId);

    public bool IsTerminated => matcher.IsTerminated;

    public ITokenConstraint Clone() => new GrammarConstraint(matcher.Clone(), vocabulary, encode);

    /// <summary>
    /// The tokens of the forced bytes (whole UTF-8 characters), less the last one when a longer token starts with
    /// it (<c>":</c> may become <c>":"</c> with what the model writes next: that choice is the model's). Each is
    /// checked by the matcher (accepted, then rolled back), so a tokenizer that normalizes text cannot force a
    /// token the grammar refuses.
    /// </summary>
    public int ForcedTokens(Span<int> destination)
    {
        if (destination.IsEmpty) return 0;
        var bytes = matcher.ForcedBytes(MaxForcedBytes);
        int length = WholeCharacters(bytes);
        if (length == 0) return 0;
        var ids = encode(Encoding.UTF8.GetString(bytes, 0, length));
        int n = ids.Count;
        if (n > 0 && CanGrow(ids[n - 1])) n--;
        n = Math.Min(n, destination.Length);
        int accepted = 0;
        while (accepted < n && matcher.Accept(ids[accepted]))
        {
            destination[accepted] = ids[accepted];
            accepted++;
        }
        matcher.Rollback(accepted);
        return accepted;
    }

    /// <summary>Whether some longer token starts with token <paramref name="id"/>'s bytes (its trie node has children).</summary>
    private bool CanGrow(int id)
    {
        if ((uint)id >= (uint)vocabulary.Size || vocabulary.TokenBytes[id] is not { } bytes) return false;
        var trie = vocabulary.Trie;
        int node = 0;
        foreach (byte b in bytes)
        {
            int child = -1;
            for (int c = trie.FirstChild[node], end = c + trie.ChildCount[node]; c < end; c++)
                if (trie.EdgeByte[c] == b) { child = c; break; }
            if (child < 0) return false;
            node = child;
        }
        return trie.ChildCount[node] > 0;
    }

    /// <summary>The length of the longest prefix of <paramref name="bytes"/> made of whole UTF-8 characters.</summary>
    private static int WholeCharacters(byte[] bytes)
    {
        int end = bytes.Length, i = end - 1;
        // Back over continuation bytes to the last lead byte; keep it only if its character is complete.
        while (i >= 0 && (bytes[i] & 0xC0) == 0x80) i--;
        if (i < 0) return 0;
        int need = bytes[i] < 0x80 ? 1 : bytes[i] >= 0xF0 ? 4 : bytes[i] >= 0xE0 ? 3 : 2;
        return end - i >= need ? end : i;
    }
}
