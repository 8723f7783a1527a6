using System.Globalization;
using System.Text;

namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>
/// Splits preprocessed template text into tokens. Whitespace control (<c>{%-</c>, <c>-%}</c>, <c>{{-</c>,
/// <c>-}}</c>, <c>{#-</c>, <c>-#}</c>) is applied here: a leading hyphen trims the text before the tag, a
/// trailing one skips the whitespace after it. Comments are dropped; <c>{% raw %}</c> blocks become text.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Symbols =
        ["**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "<", ">", "+", "-", "~", "*", "/", "%", "="];

    private readonly string _src;
    private readonly int[] _map;
    private readonly int[] _lineStarts;
    private readonly List<Token> _tokens = [];
    private int _pos;

    private Lexer(string original, Preprocessor pre)
    {
        _src = pre.Text;
        _map = pre.Map;
        var starts = new List<int> { 0 };
        for (int i = 0; i < original.Length; i++)
            if (original[i] == '\n')
                starts.Add(i + 1);
        _lineStarts = starts.ToArray();
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source, Preprocessor.Run(source));
        lexer.Run();
        return lexer._tokens;
    }

    /// <summary>The source position of preprocessed index <paramref name="index"/>.</summary>
    private SourcePosition At(int index)
    {
        int src = _map[Math.Min(index, _map.Length - 1)];
        int line = Array.BinarySearch(_lineStarts, src);
        if (line < 0)
            line = ~line - 1;
        return new SourcePosition(line + 1, src - _lineStarts[line] + 1);
    }

    private TemplateException Error(string message, int index) => new(message, At(index));

    private void Run()
    {
        while (_pos < _src.Length)
        {
            int next = FindTagStart(_pos);
            if (next > _pos)
                _tokens.Add(new Token(TokenKind.Text, _src[_pos..next], At(_pos)));
            _pos = next;
            if (_pos >= _src.Length)
                break;
            char kind = _src[_pos + 1];
            bool stripBefore = _pos + 2 < _src.Length && _src[_pos + 2] == '-';
            if (kind == '#')
            {
                LexComment(stripBefore);
                continue;
            }
            if (kind == '%' && TryLexRaw())
                continue;
            if (stripBefore)
                StripTrailingWhitespace();
            int open = _pos;
            _tokens.Add(new Token(kind == '%' ? TokenKind.OpenStatement : TokenKind.OpenExpression, kind == '%' ? "{%" : "{{", At(open)));
            _pos += stripBefore ? 3 : 2;
            LexInsideTag(kind == '%', open);
        }
        _tokens.Add(new Token(TokenKind.End, "", At(_src.Length)));
    }

    private int FindTagStart(int from)
    {
        int i = from;
        while (true)
        {
            i = _src.IndexOf('{', i);
            if (i < 0 || i + 1 >= _src.Length)
                return _src.Length;
            if (_src[i + 1] is '%' or '{' or '#')
                return i;
            i++;
        }
    }

    private void StripTrailingWhitespace()
    {
        if (_tokens.Count > 0 && _tokens[^1].Kind == TokenKind.Text)
        {
            var last = _tokens[^1];
            string trimmed = JsText.TrimEnd(last.Value);
            if (trimmed.Length == 0)
                _tokens.RemoveAt(_tokens.Count - 1);
            else
                _tokens[^1] = last with { Value = trimmed };
        }
    }

    private void SkipWhitespace()
    {
        while (_pos < _src.Length && JsText.IsWhiteSpace(_src[_pos]))
            _pos++;
    }

    private void LexComment(bool stripBefore)
    {
        int start = _pos;
        _pos += stripBefore ? 3 : 2;
        int end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0)
            throw Error("unclosed comment: '{#' without '#}'", start);
        bool stripAfter = end > _pos && _src[end - 1] == '-';
        if (stripBefore)
            StripTrailingWhitespace();
        _pos = end + 2;
        if (stripAfter)
            SkipWhitespace();
        // Kept as a token (the parser skips it): a "{%-" right after a comment must not trim the text before
        // the comment, as in @huggingface/jinja.
        _tokens.Add(new Token(TokenKind.Comment, "", At(start)));
    }

    /// <summary><c>{% raw %}...{% endraw %}</c>: the body is literal text (with the tags' own whitespace control).</summary>
    private bool TryLexRaw()
    {
        int i = _pos + 2;
        bool stripBefore = i < _src.Length && _src[i] == '-';
        if (stripBefore)
            i++;
        while (i < _src.Length && JsText.IsWhiteSpace(_src[i]))
            i++;
        if (string.CompareOrdinal(_src, i, "raw", 0, 3) != 0 || (i + 3 < _src.Length && JsText.IsAsciiWord(_src[i + 3])))
            return false;
        int start = _pos;
        i += 3;
        while (i < _src.Length && JsText.IsWhiteSpace(_src[i]))
            i++;
        bool stripAfter = i < _src.Length && _src[i] == '-';
        if (stripAfter)
            i++;
        if (string.CompareOrdinal(_src, i, "%}", 0, 2) != 0)
            throw Error("malformed '{% raw %}' tag", start);
        int bodyStart = i + 2;
        int search = bodyStart;
        while (true)
        {
            int tag = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (tag < 0)
                throw Error("'{% raw %}' without '{% endraw %}'", start);
            int j = tag + 2;
            bool endStripBefore = j < _src.Length && _src[j] == '-';
            if (endStripBefore)
                j++;
            while (j < _src.Length && JsText.IsWhiteSpace(_src[j]))
                j++;
            if (string.CompareOrdinal(_src, j, "endraw", 0, 6) == 0)
            {
                j += 6;
                while (j < _src.Length && JsText.IsWhiteSpace(_src[j]))
                    j++;
                bool endStripAfter = j < _src.Length && _src[j] == '-';
                if (endStripAfter)
                    j++;
                if (string.CompareOrdinal(_src, j, "%}", 0, 2) != 0)
                    throw Error("malformed '{% endraw %}' tag", tag);
                if (stripBefore)
                    StripTrailingWhitespace();
                string body = _src[bodyStart..tag];
                if (stripAfter)
                    body = JsText.TrimStart(body);
                if (endStripBefore)
                    body = JsText.TrimEnd(body);
                if (body.Length > 0)
                    _tokens.Add(new Token(TokenKind.Text, body, At(bodyStart)));
                _pos = j + 2;
                if (endStripAfter)
                    SkipWhitespace();
                return true;
            }
            search = tag + 2;
        }
    }

    private void LexInsideTag(bool statement, int open)
    {
        int curlyDepth = 0;
        while (true)
        {
            SkipWhitespace();
            if (_pos >= _src.Length)
                throw Error(statement ? "unclosed '{%' tag" : "unclosed '{{' expression", open);
            char c = _src[_pos];
            // Closing tags, with or without a hyphen.
            if (c == '-' && _pos + 2 < _src.Length && _src[_pos + 2] == '}' && _src[_pos + 1] is '%' or '}')
            {
                if (CloseTag(statement, _src[_pos + 1] == '%', 3))
                {
                    SkipWhitespace();
                    return;
                }
            }
            if (statement && c == '%' && _pos + 1 < _src.Length && _src[_pos + 1] == '}')
            {
                CloseTag(true, true, 2);
                return;
            }
            if (!statement && c == '}' && curlyDepth == 0 && _pos + 1 < _src.Length && _src[_pos + 1] == '}')
            {
                CloseTag(false, false, 2);
                return;
            }
            if (c is '\'' or '"')
            {
                LexString(c);
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                LexNumber();
                continue;
            }
            if (JsText.IsAsciiWord(c))
            {
                int s = _pos;
                while (_pos < _src.Length && JsText.IsAsciiWord(_src[_pos]))
                    _pos++;
                _tokens.Add(new Token(TokenKind.Identifier, _src[s.._pos], At(s)));
                continue;
            }
            string? symbol = null;
            foreach (string sym in Symbols)
            {
                if (string.CompareOrdinal(_src, _pos, sym, 0, sym.Length) == 0)
                {
                    symbol = sym;
                    break;
                }
            }
            if (symbol is null)
                throw Error($"unexpected character '{c}'", _pos);
            if (symbol == "{")
                curlyDepth++;
            else if (symbol == "}")
                curlyDepth--;
            _tokens.Add(new Token(TokenKind.Symbol, symbol, At(_pos)));
            _pos += symbol.Length;
        }
    }

    private bool CloseTag(bool statement, bool percent, int length)
    {
        if (statement != percent)
            throw Error(statement ? "'{%' closed by '}}'" : "'{{' closed by '%}'", _pos);
        _tokens.Add(new Token(statement ? TokenKind.CloseStatement : TokenKind.CloseExpression, statement ? "%}" : "}}", At(_pos)));
        _pos += length;
        return true;
    }

    private void LexNumber()
    {
        int s = _pos;
        while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos]))
            _pos++;
        bool afterDot = _tokens.Count > 0 && _tokens[^1].IsSymbol(".");
        if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            _pos++;
            while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos]))
                _pos++;
            _tokens.Add(new Token(TokenKind.Float, _src[s.._pos], At(s)));
            return;
        }
        _tokens.Add(new Token(TokenKind.Integer, _src[s.._pos], At(s)));
    }

    private void LexString(char quote)
    {
        int start = _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length)
                throw Error("unterminated string literal", start);
            char c = _src[_pos++];
            if (c == quote)
                break;
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (_pos >= _src.Length)
                throw Error("unterminated string literal", start);
            char e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case 'x' or 'u':
                    int n = e == 'x' ? 2 : 4;
                    if (_pos + n > _src.Length || !int.TryParse(_src.AsSpan(_pos, n), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                        throw Error($"invalid escape sequence '\\{e}' in string literal", _pos - 2);
                    sb.Append((char)code);
                    _pos += n;
                    break;
                default:
                    throw Error($"unsupported escape sequence '\\{e}' in string literal", _pos - 2);
            }
        }
        _tokens.Add(new Token(TokenKind.String, sb.ToString(), At(start)));
    }
}
