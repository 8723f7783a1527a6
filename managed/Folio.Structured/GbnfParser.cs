namespace Folio.Structured;

/// <summary>
/// llama.cpp's GBNF grammar format → <see cref="GrammarDefinition"/>: <c>name ::= body</c> rules (start rule
/// <c>root</c>), alternation <c>|</c>, grouping, <c>* + ? {m} {m,} {m,n}</c>, string literals and character classes
/// (ranges, <c>^</c> negation, escapes \n \r \t \\ \" \] \xHH \uHHHH \UHHHHHHHH), <c>.</c> (any character) and
/// <c>#</c> comments. A rule referenced but never defined is an error naming it.
/// </summary>
public sealed class GbnfParser
{
    private readonly string _s;
    private int _i;

    private GbnfParser(string text) => _s = text;

    public static GrammarDefinition Parse(string text, string startRule = "root")
    {
        var p = new GbnfParser(text);
        var def = new GrammarDefinition(startRule);
        var referenced = new List<string>();
        p.SkipSpace();
        while (p._i < p._s.Length)
        {
            string name = p.Name() ?? throw p.Error("expected a rule name");
            p.SkipSpace();
            if (!p._s.AsSpan(p._i).StartsWith("::=")) throw p.Error($"expected '::=' after '{name}'");
            p._i += 3;
            if (def.Contains(name)) throw p.Error($"rule '{name}' defined twice");
            def.Add(name, p.Alternatives(referenced));
            p.SkipSpace();
        }
        foreach (var r in referenced)
            if (!def.Contains(r)) throw new GrammarException($"GBNF: unknown rule '{r}' (referenced but not defined)");
        if (!def.Contains(startRule)) throw new GrammarException($"GBNF: no '{startRule}' rule");
        return def;
    }

    private GrammarException Error(string what)
    {
        int line = 1 + _s.AsSpan(0, Math.Min(_i, _s.Length)).Count('\n');
        return new GrammarException($"GBNF line {line}: {what}");
    }

    private void SkipSpace()
    {
        while (_i < _s.Length)
        {
            if (char.IsWhiteSpace(_s[_i])) _i++;
            else if (_s[_i] == '#') { while (_i < _s.Length && _s[_i] != '\n') _i++; }
            else break;
        }
    }

    private static bool NameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_';

    private string? Name()
    {
        int start = _i;
        while (_i < _s.Length && NameChar(_s[_i])) _i++;
        return _i > start ? _s[start.._i] : null;
    }

    /// <summary>True when the input at the cursor starts the next rule (<c>name ::=</c>).</summary>
    private bool AtRuleStart()
    {
        int j = _i;
        while (j < _s.Length && NameChar(_s[j])) j++;
        if (j == _i) return false;
        while (j < _s.Length && char.IsWhiteSpace(_s[j])) j++;
        return _s.AsSpan(j).StartsWith("::=");
    }

    private RxNode Alternatives(List<string> referenced)
    {
        var alts = new List<RxNode> { Sequence(referenced) };
        while (_i < _s.Length && _s[_i] == '|')
        {
            _i++;
            alts.Add(Sequence(referenced));
        }
        return alts.Count == 1 ? alts[0] : RxNode.Alt(alts);
    }

    private RxNode Sequence(List<string> referenced)
    {
        var items = new List<RxNode>();
        while (true)
        {
            SkipSpace();
            if (_i >= _s.Length || _s[_i] == '|' || _s[_i] == ')' || AtRuleStart()) break;
            var atom = Atom(referenced);
            items.Add(Quantified(atom));
        }
        return RxNode.Seq(items);
    }

    private RxNode Quantified(RxNode atom)
    {
        while (_i < _s.Length)
        {
            char c = _s[_i];
            if (c == '*') { _i++; atom = RxNode.Repeat(atom, 0, -1); }
            else if (c == '+') { _i++; atom = RxNode.Repeat(atom, 1, -1); }
            else if (c == '?') { _i++; atom = RxNode.Repeat(atom, 0, 1); }
            else if (c == '{')
            {
                int close = _s.IndexOf('}', _i);
                if (close < 0) throw Error("unterminated '{'");
                var parts = _s[(_i + 1)..close].Split(',');
                if (parts.Length > 2 || !int.TryParse(parts[0].Trim(), out int min)) throw Error("bad repetition {m,n}");
                int max = parts.Length == 1 ? min : parts[1].Trim().Length == 0 ? -1 : int.TryParse(parts[1].Trim(), out int m) ? m : throw Error("bad repetition {m,n}");
                if (min < 0 || (max >= 0 && max < min) || min > RegexParser.MaxRepeat || max > RegexParser.MaxRepeat) throw Error("bad repetition {m,n}");
                _i = close + 1;
                atom = RxNode.Repeat(atom, min, max);
            }
            else break;
        }
        return atom;
    }

    private RxNode Atom(List<string> referenced)
    {
        char c = _s[_i];
        if (c == '"')
        {
            _i++;
            var parts = new List<RxNode>();
            while (true)
            {
                if (_i >= _s.Length) throw Error("unterminated string literal");
                if (_s[_i] == '"') { _i++; break; }
                parts.Add(RxNode.Char(Char()));
            }
            return RxNode.Seq(parts);
        }
        if (c == '[')
        {
            _i++;
            bool negate = _i < _s.Length && _s[_i] == '^';
            if (negate) _i++;
            var ranges = new List<(int, int)>();
            while (true)
            {
                if (_i >= _s.Length) throw Error("unterminated character class");
                if (_s[_i] == ']') { _i++; break; }
                int lo = Char();
                int hi = lo;
                if (_i + 1 < _s.Length && _s[_i] == '-' && _s[_i + 1] != ']')
                {
                    _i++;
                    hi = Char();
                    if (hi < lo) throw Error("class range out of order");
                }
                ranges.Add((lo, hi));
            }
            var norm = RxNode.Normalize(ranges);
            return RxNode.Chars(negate ? RxNode.Complement(norm, 0x10FFFF) : norm);
        }
        if (c == '(')
        {
            _i++;
            var inner = Alternatives(referenced);
            SkipSpace();
            if (_i >= _s.Length || _s[_i] != ')') throw Error("missing ')'");
            _i++;
            return inner;
        }
        if (c == '.') { _i++; return RxNode.AnyChar; }
        string? name = Name();
        if (name is null) throw Error($"unexpected '{c}'");
        referenced.Add(name);
        return RxNode.Ref(name);
    }

    /// <summary>One character of a literal or class, escapes decoded.</summary>
    private int Char()
    {
        char c = _s[_i];
        if (c != '\\')
        {
            int cp = char.ConvertToUtf32(_s, _i);
            _i += cp > 0xFFFF ? 2 : 1;
            return cp;
        }
        if (_i + 1 >= _s.Length) throw Error("trailing backslash");
        char e = _s[_i + 1];
        _i += 2;
        return e switch
        {
            'n' => '\n', 'r' => '\r', 't' => '\t', '\\' => '\\', '"' => '"', '[' => '[', ']' => ']', '-' => '-', '^' => '^',
            'x' => HexDigits(2), 'u' => HexDigits(4), 'U' => HexDigits(8),
            _ => throw Error($"unknown escape \\{e}"),
        };
    }

    private int HexDigits(int n)
    {
        if (_i + n > _s.Length || !int.TryParse(_s.AsSpan(_i, n), System.Globalization.NumberStyles.HexNumber, null, out int v) || v > 0x10FFFF)
            throw Error("bad hex escape");
        _i += n;
        return v;
    }
}
