using System.Text;
using Folio.Structured;

namespace Folio.Structured.Tests;

/// <summary>Drives a matcher over text byte by byte, checking that each mask agrees with <see cref="GrammarMatcher.Accept"/>.</summary>
internal static class Check
{
    /// <summary>True when the grammar accepts exactly <paramref name="text"/> (every byte allowed, then EOS).</summary>
    public static bool Accepts(CompiledGrammar g, string text)
    {
        var vocab = g.Vocabulary;
        var m = g.CreateMatcher();
        var mask = new ulong[vocab.MaskWords];
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            m.ComputeMask(mask);
            AssertMaskMatchesAccept(m, mask, vocab);
            if (!BitMask.Get(mask, b)) return false;
            Assert.True(m.Accept(b));
        }
        m.ComputeMask(mask);
        Assert.Equal(m.CanStop, BitMask.Get(mask, vocab.EosTokenId!.Value));
        return m.CanStop;
    }

    /// <summary>Every token's mask bit equals whether Accept takes it (then rolled back).</summary>
    public static void AssertMaskMatchesAccept(GrammarMatcher m, ulong[] mask, TokenVocabulary vocab)
    {
        for (int id = 0; id < vocab.Size; id++)
        {
            if (id == vocab.EosTokenId) continue;
            bool ok = m.Accept(id);
            if (ok) m.Rollback(1);
            Assert.True(ok == BitMask.Get(mask, id), $"token {id} mask {BitMask.Get(mask, id)} accept {ok}");
        }
    }

    public static CompiledGrammar Schema(string json) => ByteVocab.Compiler.CompileJsonSchema(json);

    public static string SchemaError(string json) => Assert.Throws<GrammarException>(() => Schema(json)).Message;
}
