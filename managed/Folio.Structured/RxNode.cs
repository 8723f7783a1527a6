namespace Folio.Structured;

/// <summary>What an <see cref="RxNode"/> is: the regular operators plus a reference to a grammar rule.</summary>
public enum RxKind
{
    /// <summary>Matches the empty string.</summary>
    Empty,
    /// <summary>Matches nothing (an empty class).</summary>
    Nothing,
    /// <summary>One code point out of <see cref="RxNode.Ranges"/>.</summary>
    Chars,
    /// <summary>One raw byte out of <see cref="RxNode.Ranges"/> (0..255); for vocabularies' partial UTF-8.</summary>
    Bytes,
    Seq,
    Alt,
    /// <summary><see cref="RxNode.Min"/> to <see cref="RxNode.Max"/> (-1 = unbounded) copies of the only child.</summary>
    Repeat,
    /// <summary>A grammar rule by name (GBNF, JSON Schema definitions); never inside a plain regex.</summary>
    Ref,
    /// <summary>Strings both children match (an automaton product; e.g. a pattern with a length bound).</summary>
    And,
}

/// <summary>
/// One node of the expression tree that every input (regex, GBNF, JSON Schema) is lowered to. Immutable; code point
/// ranges are inclusive pairs, sorted and disjoint.
/// </summary>
public sealed class RxNode
{
    private RxNode(RxKind kind, RxNode[] children, (int Lo, int Hi)[] ranges, int min, int max, string? name)
    {
        Kind = kind; Children = children; Ranges = ranges; Min = min; Max = max; Name = name;
        bool hasRef = kind == RxKind.Ref;
        foreach (var c in children) hasRef |= c.HasRef;
        HasRef = hasRef;
    }

    // The canonical text, kept once computed: lowering asks for it at every occurrence of a terminal (the key of the
    // automaton caches), and an object's 2^n member sets reference the same nodes many times.
    private string? _text;

    public RxKind Kind { get; }
    public RxNode[] Children { get; }
    public (int Lo, int Hi)[] Ranges { get; }
    public int Min { get; }
    public int Max { get; }
    public string? Name { get; }

    /// <summary>Whether a rule reference occurs in this tree (computed at construction: lowering asks at every level).</summary>
    public bool HasRef { get; }

    public static readonly RxNode Empty = new(RxKind.Empty, [], [], 0, 0, null);
    public static readonly RxNode Nothing = new(RxKind.Nothing, [], [], 0, 0, null);

    /// <summary>Every code point (Unicode scalar values: surrogates are not encodable in UTF-8).</summary>
    public static RxNode AnyChar => Chars([(0, 0xD7FF), (0xE000, 0x10FFFF)]);

    public static RxNode Chars(IEnumerable<(int Lo, int Hi)> ranges)
    {
        var norm = Normalize(ranges);
        return norm.Length == 0 ? Nothing : new RxNode(RxKind.Chars, [], norm, 0, 0, null);
    }

    public static RxNode Char(int c) => new(RxKind.Chars, [], [(c, c)], 0, 0, null);

    public static RxNode Bytes(IEnumerable<(int Lo, int Hi)> ranges)
    {
        var norm = Normalize(ranges);
        return norm.Length == 0 ? Nothing : new RxNode(RxKind.Bytes, [], norm, 0, 0, null);
    }

    public static RxNode Ref(string name) => new(RxKind.Ref, [], [], 0, 0, name);

    public static RxNode Literal(string s)
    {
        var parts = new List<RxNode>();
        for (int i = 0; i < s.Length; i++)
        {
            int c = char.ConvertToUtf32(s, i);
            if (c > 0xFFFF) i++;
            parts.Add(Char(c));
        }
        return Seq(parts);
    }

    public static RxNode Seq(params IEnumerable<RxNode> items)
    {
        var list = new List<RxNode>();
        foreach (var item in items)
        {
            if (item.Kind == RxKind.Nothing) return Nothing;
            if (item.Kind == RxKind.Empty) continue;
            if (item.Kind == RxKind.Seq) list.AddRange(item.Children);
            else list.Add(item);
        }
        return list.Count switch { 0 => Empty, 1 => list[0], _ => new RxNode(RxKind.Seq, [.. list], [], 0, 0, null) };
    }

    public static RxNode Alt(params IEnumerable<RxNode> items)
    {
        var list = new List<RxNode>();
        foreach (var item in items)
        {
            if (item.Kind == RxKind.Nothing) continue;
            if (item.Kind == RxKind.Alt) list.AddRange(item.Children);
            else list.Add(item);
        }
        return list.Count switch { 0 => Nothing, 1 => list[0], _ => new RxNode(RxKind.Alt, [.. list], [], 0, 0, null) };
    }

    public static RxNode Repeat(RxNode child, int min, int max)
    {
        if (max == 0 || child.Kind == RxKind.Empty) return Empty;
        if (child.Kind == RxKind.Nothing) return min == 0 ? Empty : Nothing;
        if (min == 1 && max == 1) return child;
        return new RxNode(RxKind.Repeat, [child], [], min, max, null);
    }

    public static RxNode Optional(RxNode child) => Repeat(child, 0, 1);

    public static RxNode And(RxNode a, RxNode b) =>
        a.Kind == RxKind.Nothing || b.Kind == RxKind.Nothing ? Nothing : new RxNode(RxKind.And, [a, b], [], 0, 0, null);

    /// <summary>Sorts and merges inclusive ranges.</summary>
    public static (int Lo, int Hi)[] Normalize(IEnumerable<(int Lo, int Hi)> ranges)
    {
        var sorted = new List<(int Lo, int Hi)>(ranges is IReadOnlyCollection<(int, int)> c ? c.Count : 4);
        bool inOrder = true;
        foreach (var r in ranges)
        {
            if (r.Lo > r.Hi) continue;
            if (sorted.Count > 0 && r.Lo < sorted[^1].Lo) inOrder = false;
            sorted.Add(r);
        }
        // Most classes come sorted (single characters, parsed classes); equal starts merge whatever their order.
        if (!inOrder) sorted.Sort((x, y) => x.Lo.CompareTo(y.Lo));
        int n = 0;
        for (int i = 0; i < sorted.Count; i++)
        {
            var r = sorted[i];
            if (n > 0 && r.Lo <= sorted[n - 1].Hi + 1)
                sorted[n - 1] = (sorted[n - 1].Lo, Math.Max(sorted[n - 1].Hi, r.Hi));
            else
                sorted[n++] = r;
        }
        var result = new (int Lo, int Hi)[n];
        sorted.CopyTo(0, result, 0, n);
        return result;
    }

    /// <summary>The complement of sorted disjoint ranges within [0, max].</summary>
    public static (int Lo, int Hi)[] Complement((int Lo, int Hi)[] ranges, int max)
    {
        var result = new List<(int Lo, int Hi)>();
        int next = 0;
        foreach (var (lo, hi) in ranges)
        {
            if (lo > next) result.Add((next, lo - 1));
            next = hi + 1;
        }
        if (next <= max) result.Add((next, max));
        return [.. result];
    }

    /// <summary>A canonical text of the tree: equal texts mean equal languages, so compiled automata can be shared.</summary>
    public override string ToString()
    {
        if (_text is not null) return _text;
        var sb = new System.Text.StringBuilder();
        Write(sb);
        return _text = sb.ToString();
    }

    private void Write(System.Text.StringBuilder sb)
    {
        if (_text is not null)
        {
            sb.Append(_text);
            return;
        }
        switch (Kind)
        {
            case RxKind.Empty: sb.Append("()"); break;
            case RxKind.Nothing: sb.Append("[]"); break;
            case RxKind.Chars:
            case RxKind.Bytes:
                sb.Append(Kind == RxKind.Chars ? "[" : "b[");
                foreach (var (lo, hi) in Ranges) sb.Append(lo.ToString("x")).Append('-').Append(hi.ToString("x")).Append(',');
                sb.Append(']');
                break;
            case RxKind.Seq:
                sb.Append("(");
                foreach (var c in Children) c.Write(sb);
                sb.Append(')');
                break;
            case RxKind.Alt:
                sb.Append("(");
                for (int i = 0; i < Children.Length; i++) { if (i > 0) sb.Append('|'); Children[i].Write(sb); }
                sb.Append(')');
                break;
            case RxKind.Repeat:
                sb.Append('(');
                Children[0].Write(sb);
                sb.Append("){").Append(Min).Append(',').Append(Max).Append('}');
                break;
            case RxKind.Ref: sb.Append('<').Append(Name).Append('>'); break;
            case RxKind.And:
                sb.Append("(");
                Children[0].Write(sb);
                sb.Append('&');
                Children[1].Write(sb);
                sb.Append(')');
                break;
        }
    }
}
