namespace Folio.Structured;

/// <summary>
/// ECMAScript-style regular expressions (JSON Schema's <c>pattern</c> dialect) → <see cref="RxNode"/> over code
/// points: classes with ranges and negation, escapes (\d \w \s \D \W \S \n \t \xHH \uHHHH \u{H..}), quantifiers
/// (* + ? {m} {m,} {m,n}, lazy forms: same language), groups (capturing, (?:), named), alternation, and ^ / $ at
/// the pattern's edges. Refused with a message: lookaround, backreferences, \b, \p{..}, possessive quantifiers.
/// </summary>
public sealed class RegexParser
{
    /// <summary>Largest repetition count accepted in {m,n}.</summary>
    public const int MaxRepeat = 10_000;

    private static readonly RxNode StartAnchor = RxNode.Ref("^");
    private static readonly RxNode EndAnchor = RxNode.Ref("$");

    private readonly string _p;
    private int _i;

    private RegexParser(string pattern) => _p = pattern;

    /// <summary>The language of strings that fully match <paramref name="pattern"/> (edge anchors are optional).</summary>
    public static RxNode ParseFullMatch(string pattern) => Parse(pattern, search: false);

    /// <summary>The language of strings that contain a match (JSON Schema semantics: unanchored ends match anything).</summary>
    public static RxNode ParseSearch(string pattern) => Parse(pattern, search: true);

    private static RxNode Parse(string pattern, bool search)
    {
        var p = new RegexParser(pattern);
        var node = p.ParseAlt();
        if (p._i < pattern.Length) throw p.Error("unbalanced ')'");
        node = ApplyStart(node, search);
        node = ApplyEnd(node, search);
        if (ContainsAnchor(node)) throw new GrammarException($"invalid or unsupported regex '{pattern}': ^ or $ in the middle of the pattern");
        return node;
    }

    private static RxNode AnyString => RxNode.Repeat(RxNode.AnyChar, 0, -1);

    private static RxNode ApplyStart(RxNode n, bool search)
    {
        if (ReferenceEquals(n, StartAnchor)) return RxNode.Empty;
        if (n.Kind == RxKind.Alt) return RxNode.Alt(n.Children.Select(c => ApplyStart(c, search)));
        if (n.Kind == RxKind.Seq && (ReferenceEquals(n.Children[0], StartAnchor) || n.Children[0].Kind == RxKind.Alt && ContainsAnchor(n.Children[0])))
            return RxNode.Seq([ApplyStart(n.Children[0], search), .. n.Children[1..]]);
        return search ? RxNode.Seq(AnyString, n) : n;
    }

    private static RxNode ApplyEnd(RxNode n, bool search)
    {
        if (ReferenceEquals(n, EndAnchor)) return RxNode.Empty;
        if (n.Kind == RxKind.Alt) return RxNode.Alt(n.Children.Select(c => ApplyEnd(c, search)));
        if (n.Kind == RxKind.Seq && (ReferenceEquals(n.Children[^1], EndAnchor) || n.Children[^1].Kind == RxKind.Alt && ContainsAnchor(n.Children[^1])))
            return RxNode.Seq([.. n.Children[..^1], ApplyEnd(n.Children[^1], search)]);
        return search ? RxNode.Seq(n, AnyString) : n;
    }

    private static bool ContainsAnchor(RxNode n) =>
        ReferenceEquals(n, StartAnchor) || ReferenceEquals(n, EndAnchor) || n.Children.Any(ContainsAnchor);

    private GrammarException Error(string what) => new($"invalid or unsupported regex '{_p}' at offset {_i}: {what}");

    private bool More => _i < _p.Length;
    private char Peek => _p[_i];

    private RxNode ParseAlt()
    {
        var branches = new List<RxNode> { ParseSeq() };
        while (More && Peek == '|')
        {
            _i++;
            branches.Add(ParseSeq());
        }
        // Alt drops empty-language branches; keep an explicit empty branch as Empty.
        return branches.Count == 1 ? branches[0] : RxNode.Alt(branches);
    }

    private RxNode ParseSeq()
    {
        var items = new List<RxNode>();
        while (More && Peek != '|' && Peek != ')')
        {
            var atom = ParseAtom();
            items.Add(ParseQuantifiers(atom));
        }
        return items.Count == 1 ? items[0] : RxNode.Seq(items);
    }

    private RxNode ParseQuantifiers(RxNode atom)
    {
        while (More)
        {
            int min, max;
            char c = Peek;
            if (c == '*') { min = 0; max = -1; _i++; }
            else if (c == '+') { min = 1; max = -1; _i++; }
            else if (c == '?') { min = 0; max = 1; _i++; }
            else if (c == '{' && TryBraces(out min, out max)) { }
            else break;
            if (ReferenceEquals(atom, StartAnchor) || ReferenceEquals(atom, EndAnchor)) throw Error("quantified anchor");
            if (More && Peek == '?') _i++;          // lazy: same language
            else if (More && Peek == '+') throw Error("possessive quantifier");
            atom = RxNode.Repeat(atom, min, max);
        }
        return atom;
    }

    private bool TryBraces(out int min, out int max)
    {
        min = max = 0;
        int j = _i + 1;
        int a = ReadInt(ref j);
        if (a < 0) return false;
        int b = a;
        if (j < _p.Length && _p[j] == ',')
        {
            j++;
            b = ReadInt(ref j);
            if (b < 0) b = -1;
        }
        if (j >= _p.Length || _p[j] != '}') return false;
        if (a > MaxRepeat || b > MaxRepeat) throw Error($"repetition count over {MaxRepeat}");
        if (b >= 0 && b < a) throw Error("repetition {m,n} with n < m");
        _i = j + 1;
        min = a;
        max = b;
        return true;
    }

    private int ReadInt(ref int j)
    {
        int start = j;
        long v = 0;
        while (j < _p.Length && char.IsAsciiDigit(_p[j])) { v = Math.Min(v * 10 + (_p[j] - '0'), int.MaxValue); j++; }
        return j == start ? -1 : (int)v;
    }

    private RxNode ParseAtom()
    {
        char c = _p[_i++];
        switch (c)
        {
            case '^': return StartAnchor;
            case '$': return EndAnchor;
            case '.': return RxNode.Chars(RxNode.Complement(RxNode.Normalize([(10, 10), (13, 13), (0x2028, 0x2029), (0xD800, 0xDFFF)]), 0x10FFFF));
            case '[': return ParseClass();
            case '(':
                if (More && Peek == '?')
                {
                    _i++;
                    if (More && Peek == ':') _i++;
                    else if (More && (Peek == '<' || Peek == 'P') && !(_p.AsSpan(_i).StartsWith("<=") || _p.AsSpan(_i).StartsWith("<!")))
                    {
                        int close = _p.IndexOf('>', _i);
                        if (close < 0) throw Error("unterminated group name");
                        _i = close + 1;
                    }
                    else throw Error("lookaround or inline flags");
                }
                var inner = ParseAlt();
                if (!More || Peek != ')') throw Error("missing ')'");
                _i++;
                return inner;
            case ')': throw Error("unbalanced ')'");
            case '*': case '+': case '?': throw Error("nothing to repeat");
            case '\\': return ParseEscape(inClass: false) is var (node, _) ? node : throw Error("bad escape");
            default:
                _i--;
                int cp = char.ConvertToUtf32(_p, _i);
                _i += cp > 0xFFFF ? 2 : 1;
                return RxNode.Char(cp);
        }
    }

    private static readonly (int, int)[] Digit = [('0', '9')];
    private static readonly (int, int)[] Word = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
    private static readonly (int, int)[] Space = RxNode.Normalize([(9, 13), (32, 32), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]);

    /// <summary>After a backslash: the node, and for classes the ranges (null for a multi-range class escape used as a range end).</summary>
    private (RxNode Node, (int, int)[] Ranges) ParseEscape(bool inClass)
    {
        if (!More) throw Error("trailing backslash");
        char c = _p[_i++];
        (int, int)[] r;
        switch (c)
        {
            case 'd': r = Digit; break;
            case 'D': r = RxNode.Complement(Digit, 0x10FFFF); break;
            case 'w': r = Word; break;
            case 'W': r = RxNode.Complement(Word, 0x10FFFF); break;
            case 's': r = Space; break;
            case 'S': r = RxNode.Complement(Space, 0x10FFFF); break;
            case 'n': r = [(10, 10)]; break;
            case 'r': r = [(13, 13)]; break;
            case 't': r = [(9, 9)]; break;
            case 'f': r = [(12, 12)]; break;
            case 'v': r = [(11, 11)]; break;
            case '0': r = [(0, 0)]; break;
            case 'b' when inClass: r = [(8, 8)]; break;
            case 'x': r = Single(Hex(2)); break;
            case 'u':
                if (More && Peek == '{')
                {
                    int close = _p.IndexOf('}', _i);
                    if (close < 0) throw Error("unterminated \\u{");
                    _i++;
                    r = Single(Hex(close - _i));
                    _i++;
                }
                else r = Single(Hex(4));
                break;
            case 'b': case 'B': throw Error("word boundary \\b");
            case 'p': case 'P': throw Error("Unicode property classes \\p{..}");
            case 'k': throw Error("named backreference");
            default:
                if (char.IsAsciiDigit(c)) throw Error("backreference");
                if (char.IsAsciiLetterOrDigit(c)) throw Error($"unknown escape \\{c}");
                r = [(c, c)];
                break;
        }
        return (RxNode.Chars(r), r);
    }

    private static (int, int)[] Single(int cp) => [(cp, cp)];

    private int Hex(int digits)
    {
        if (digits <= 0 || _i + digits > _p.Length) throw Error("bad hex escape");
        int v = 0;
        for (int k = 0; k < digits; k++)
        {
            char h = _p[_i++];
            int d = char.IsAsciiDigit(h) ? h - '0' : char.IsAsciiHexDigitLower(h) ? h - 'a' + 10 : char.IsAsciiHexDigitUpper(h) ? h - 'A' + 10 : -1;
            if (d < 0) throw Error("bad hex escape");
            v = v * 16 + d;
        }
        if (v > 0x10FFFF) throw Error("code point out of range");
        return v;
    }

    private RxNode ParseClass()
    {
        bool negate = More && Peek == '^';
        if (negate) _i++;
        var ranges = new List<(int, int)>();
        bool first = true;
        while (true)
        {
            if (!More) throw Error("unterminated character class");
            if (Peek == ']' && !first) { _i++; break; }
            first = false;
            var (lo, loRanges) = ClassAtom();
            if (More && Peek == '-' && _i + 1 < _p.Length && _p[_i + 1] != ']' && loRanges.Length == 1 && loRanges[0].Item1 == loRanges[0].Item2)
            {
                _i++;
                var (_, hiRanges) = ClassAtom();
                if (hiRanges.Length != 1 || hiRanges[0].Item1 != hiRanges[0].Item2) throw Error("class range ends in a class");
                if (hiRanges[0].Item1 < lo) throw Error("class range out of order");
                ranges.Add((lo, hiRanges[0].Item1));
            }
            else ranges.AddRange(loRanges);
        }
        var norm = RxNode.Normalize(ranges);
        return RxNode.Chars(negate ? RxNode.Complement(norm, 0x10FFFF) : norm);
    }

    private (int Lo, (int, int)[] Ranges) ClassAtom()
    {
        if (Peek == '\\')
        {
            _i++;
            var (_, r) = ParseEscape(inClass: true);
            return (r[0].Item1, r);
        }
        if (Peek == '[' && _i + 1 < _p.Length && _p[_i + 1] == ':') throw Error("POSIX classes [:name:]");
        int cp = char.ConvertToUtf32(_p, _i);
        _i += cp > 0xFFFF ? 2 : 1;
        return (cp, [(cp, cp)]);
    }
}
