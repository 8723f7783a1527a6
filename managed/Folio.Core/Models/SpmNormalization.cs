namespace Folio.Core.Models;

/// <summary>
/// What a SentencePiece-style tokenizer.json does to the text between added tokens before BPE: the Llama-2
/// ("legacy") normalizer <c>Sequence[Prepend("▁"), Replace(" ", "▁")]</c>, or the <c>Metaspace</c>
/// pre-tokenizer (spaces become "▁", a "▁" prepended always / on the text's first segment only / never, and an
/// optional split before each "▁"). Either, both or neither may be present; the normalizer runs first.
/// </summary>
internal sealed class SpmNormalization(IReadOnlyList<SpmNormalization.Step> normalizer, SpmNormalization.MetaspaceOptions? metaspace)
{
    /// <summary>A normalizer step: prepend <see cref="Text"/> to a non-empty segment, or replace
    /// <see cref="Pattern"/> by <see cref="Text"/>.</summary>
    public sealed record Step(string? Pattern, string Text)
    {
        public static Step Prepend(string text) => new(null, text);
        public static Step Replace(string pattern, string content) => new(pattern, content);
    }

    public enum PrependScheme { Always, First, Never }

    public sealed record MetaspaceOptions(char Replacement, PrependScheme Prepend, bool Split);

    /// <summary>The words BPE runs on for one segment; <paramref name="atTextStart"/>: the segment begins at
    /// offset 0 of the original text (Metaspace's "first" scheme prepends only there).</summary>
    public IEnumerable<string> Apply(string segment, bool atTextStart)
    {
        string s = segment;
        foreach (var step in normalizer)
            if (step.Pattern is null)
            {
                if (s.Length > 0)
                    s = step.Text + s;
            }
            else
            {
                s = s.Replace(step.Pattern, step.Text, StringComparison.Ordinal);
            }
        if (metaspace is null)
            return s.Length > 0 ? [s] : [];
        s = s.Replace(' ', metaspace.Replacement);
        bool prepend = metaspace.Prepend == PrependScheme.Always || (metaspace.Prepend == PrependScheme.First && atTextStart);
        if (prepend && (s.Length == 0 || s[0] != metaspace.Replacement))
            s = metaspace.Replacement + s;
        if (!metaspace.Split)
            return s.Length > 0 ? [s] : [];
        // Split before every replacement character (tokenizers' MergedWithNext).
        var words = new List<string>();
        int start = 0;
        for (int i = 1; i < s.Length; i++)
            if (s[i] == metaspace.Replacement)
            {
                words.Add(s[start..i]);
                start = i;
            }
        if (s.Length > start)
            words.Add(s[start..]);
        return words;
    }
}
