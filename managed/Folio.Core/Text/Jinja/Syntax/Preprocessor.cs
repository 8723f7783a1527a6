using System.Text;

namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>
/// The text rewrites Hugging Face applies before lexing (transformers renders with <c>trim_blocks=True,
/// lstrip_blocks=True</c>; @huggingface/jinja implements both as rewrites of the raw text, and so do we, so
/// that both see the same characters): drop one trailing newline; drop spaces and tabs between a line start
/// and a <c>{%</c> or <c>{#</c>; drop the newline right after <c>%}</c>, <c>#}</c> or <c>-}</c>.
/// <see cref="Map"/> maps each output index back to the source index, so errors name source positions.
/// </summary>
internal sealed class Preprocessor
{
    private Preprocessor(string text, int[] map)
    {
        Text = text;
        Map = map;
    }

    public string Text { get; }

    /// <summary>Source index of each character of <see cref="Text"/>, plus one entry for the end.</summary>
    public int[] Map { get; }

    public static Preprocessor Run(string source)
    {
        int length = source.EndsWith('\n') ? source.Length - 1 : source.Length;

        // Pass 1, lstrip_blocks: at a line start, skip [ \t]* when "{%", "{#" or "{-" follows.
        var keep1 = new List<int>(length);
        int i = 0;
        while (i < length)
        {
            if (i == 0 || IsLineBreak(source[i - 1]))
            {
                int j = i;
                while (j < length && (source[j] == ' ' || source[j] == '\t'))
                    j++;
                if (j > i && j + 1 < length && source[j] == '{' && source[j + 1] is '%' or '#' or '-')
                    i = j;
            }
            keep1.Add(i);
            i++;
        }

        // Pass 2, trim_blocks: drop "\n" right after "%}", "#}" or "-}" (JavaScript's regex: non-overlapping, left to right).
        var sb = new StringBuilder(keep1.Count);
        var map = new List<int>(keep1.Count + 1);
        for (int k = 0; k < keep1.Count; k++)
        {
            char c = source[keep1[k]];
            sb.Append(c);
            map.Add(keep1[k]);
            if (c == '}' && k >= 1 && k + 1 < keep1.Count && source[keep1[k - 1]] is '%' or '#' or '-' && source[keep1[k + 1]] == '\n')
                k++;
        }
        map.Add(length);
        return new Preprocessor(sb.ToString(), map.ToArray());
    }

    // JavaScript's multiline "^" matches after any line terminator.
    private static bool IsLineBreak(char c) => c is '\n' or '\r' or '\u2028' or '\u2029';
}
