using System.Text;
using Folio.Structured;

namespace Folio.Structured.Tests;

/// <summary>Test vocabularies: every single byte as a token plus some multi-byte tokens, so masks can be checked exhaustively.</summary>
internal static class ByteVocab
{
    public static readonly string[] Extra = ["{\"", "\":", "\",", "\"}", "true", "false", "null", " \"", "abc", "12", "3.5", "-1", "\"a", "a\"", "}]", ", ", ": "];

    /// <summary>Ids 0..255 are the bytes; 256.. the extra strings; the last id is EOS.</summary>
    public static TokenVocabulary Create()
    {
        var tokens = new List<byte[]?>();
        for (int b = 0; b < 256; b++) tokens.Add([(byte)b]);
        foreach (var s in Extra) tokens.Add(Encoding.UTF8.GetBytes(s));
        tokens.Add(null);   // EOS: no bytes
        return new TokenVocabulary(tokens, tokens.Count - 1);
    }

    public static readonly TokenVocabulary Shared = Create();
    public static readonly GrammarCompiler Compiler = new(Shared);
}
