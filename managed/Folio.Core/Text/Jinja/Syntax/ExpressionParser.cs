using System.Globalization;
using System.Runtime.CompilerServices;

namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>
/// Parses expressions with @huggingface/jinja's precedence (loosest first): conditional, or, and, not,
/// comparisons and <c>in</c>, <c>+ - ~</c>, <c>* / // %</c>, <c>**</c>, tests (<c>is</c>), filters (<c>|</c>),
/// unary sign, then calls, attributes and subscripts. Python Jinja differs in two rare corners, which we
/// follow @huggingface/jinja on: <c>~</c> shares the level of <c>+</c>, and a filter applies to a signed
/// operand (<c>-1|abs</c> is 1).
/// </summary>
internal sealed class ExpressionParser
{
    private static readonly HashSet<string> Comparisons = ["==", "!=", "<", ">", "<=", ">="];
    private static readonly HashSet<string> SpecialNames = ["caller", "kwargs", "varargs"];

    private readonly TokenStream _ts;
    private readonly List<HashSet<string>> _specialScopes = [];

    public ExpressionParser(TokenStream ts) => _ts = ts;

    /// <summary>Starts recording which of caller/kwargs/varargs a macro or call body reads.</summary>
    public void BeginSpecialNameScope() => _specialScopes.Add([]);

    public IReadOnlySet<string> EndSpecialNameScope()
    {
        var s = _specialScopes[^1];
        _specialScopes.RemoveAt(_specialScopes.Count - 1);
        return s;
    }

    public Expr ParseExpression()
    {
        // Deeply nested input ("((((...") must fail as an exception, never overflow the stack.
        RuntimeHelpers.EnsureSufficientExecutionStack();
        var value = ParseOr();
        if (!_ts.Peek.IsName("if"))
            return value;
        _ts.Next();
        var condition = ParseOr();
        if (!_ts.Peek.IsName("else"))
            return new CondExpr(value.Position, condition, value, null);
        _ts.Next();
        return new CondExpr(value.Position, condition, value, ParseExpression());
    }

    /// <summary><c>a, b, c</c> without parentheses (a tuple) or one expression.</summary>
    public Expr ParseSequence(bool primaryOnly)
    {
        var first = primaryOnly ? ParsePrimaryWithMembers() : ParseExpression();
        if (!_ts.Peek.IsSymbol(","))
            return first;
        var items = new List<Expr> { first };
        while (_ts.TryConsumeSymbol(","))
            items.Add(primaryOnly ? ParsePrimaryWithMembers() : ParseExpression());
        return new ListExpr(first.Position, items, true);
    }

    private Expr ParsePrimaryWithMembers() => ParsePostfix(ParsePrimary(), allowCalls: false);

    public Expr ParseOr()
    {
        var left = ParseAnd();
        while (_ts.Peek.IsName("or"))
        {
            var op = _ts.Next();
            left = new BinaryExpr(op.Position, "or", left, ParseAnd());
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (_ts.Peek.IsName("and"))
        {
            var op = _ts.Next();
            left = new BinaryExpr(op.Position, "and", left, ParseNot());
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (_ts.Peek.IsName("not"))
        {
            var op = _ts.Next();
            return new UnaryExpr(op.Position, "not", ParseNot());
        }
        return ParseComparison();
    }

    private Expr ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            var t = _ts.Peek;
            string op;
            if (t.IsName("not") && _ts.PeekAt(1).IsName("in"))
            {
                _ts.Next();
                op = "not in";
            }
            else if (t.IsName("in"))
                op = "in";
            else if (t.Kind == TokenKind.Symbol && Comparisons.Contains(t.Value))
                op = t.Value;
            else
                return left;
            _ts.Next();
            left = new BinaryExpr(t.Position, op, left, ParseAdditive());
        }
    }

    private Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (_ts.Peek.Kind == TokenKind.Symbol && _ts.Peek.Value is "+" or "-" or "~")
        {
            var op = _ts.Next();
            left = new BinaryExpr(op.Position, op.Value, left, ParseMultiplicative());
        }
        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParsePower();
        while (_ts.Peek.Kind == TokenKind.Symbol && _ts.Peek.Value is "*" or "/" or "//" or "%")
        {
            var op = _ts.Next();
            left = new BinaryExpr(op.Position, op.Value, left, ParsePower());
        }
        return left;
    }

    private Expr ParsePower()
    {
        var left = ParseTest();
        while (_ts.Peek.IsSymbol("**"))
        {
            var op = _ts.Next();
            left = new BinaryExpr(op.Position, "**", left, ParseTest());
        }
        return left;
    }

    private Expr ParseTest()
    {
        var operand = ParseFilter();
        while (_ts.Peek.IsName("is"))
        {
            var isToken = _ts.Next();
            bool negated = false;
            if (_ts.Peek.IsName("not"))
            {
                _ts.Next();
                negated = true;
            }
            var name = _ts.Next();
            if (name.Kind != TokenKind.Identifier)
                throw new TemplateException($"expected a test name after 'is', found {TokenStream.Describe(name)}", name.Position);
            var args = _ts.Peek.IsSymbol("(") ? ParseArguments() : [];
            operand = new TestExpr(isToken.Position, operand, name.Value, negated, args);
        }
        return operand;
    }

    private Expr ParseFilter()
    {
        var operand = ParseUnary();
        while (_ts.Peek.IsSymbol("|"))
        {
            var pipe = _ts.Next();
            var name = _ts.Next();
            if (name.Kind != TokenKind.Identifier)
                throw new TemplateException($"expected a filter name after '|', found {TokenStream.Describe(name)}", name.Position);
            var args = _ts.Peek.IsSymbol("(") ? ParseArguments() : [];
            operand = new FilterExpr(pipe.Position, operand, name.Value, args);
        }
        return operand;
    }

    private Expr ParseUnary()
    {
        if (_ts.Peek.Kind == TokenKind.Symbol && _ts.Peek.Value is "-" or "+")
        {
            var op = _ts.Next();
            return new UnaryExpr(op.Position, op.Value, ParseUnary());
        }
        return ParsePostfix(ParsePrimary(), allowCalls: true);
    }

    private Expr ParsePostfix(Expr expr, bool allowCalls)
    {
        while (true)
        {
            var t = _ts.Peek;
            if (t.IsSymbol("."))
            {
                _ts.Next();
                var name = _ts.Next();
                if (name.Kind is not (TokenKind.Identifier or TokenKind.Integer))
                    throw new TemplateException($"expected an attribute name after '.', found {TokenStream.Describe(name)}", name.Position);
                expr = new AttrExpr(t.Position, expr, name.Value);
            }
            else if (t.IsSymbol("["))
            {
                _ts.Next();
                expr = ParseSubscript(t.Position, expr);
            }
            else if (allowCalls && t.IsSymbol("("))
                expr = new CallExpr(expr.Position, expr, ParseArguments());
            else
                return expr;
        }
    }

    private Expr ParseSubscript(SourcePosition pos, Expr obj)
    {
        var parts = new Expr?[3];
        int colons = 0;
        while (!_ts.Peek.IsSymbol("]"))
        {
            if (_ts.Peek.IsSymbol(":"))
            {
                if (++colons > 2)
                    throw new TemplateException("a slice has at most two ':'", _ts.Peek.Position);
                _ts.Next();
                continue;
            }
            if (parts[colons] is not null)
                throw new TemplateException($"expected ']' or ':', found {TokenStream.Describe(_ts.Peek)}", _ts.Peek.Position);
            parts[colons] = ParseExpression();
        }
        _ts.Next();
        if (colons == 0)
            return parts[0] is { } index ? new IndexExpr(pos, obj, index) : throw new TemplateException("empty subscript '[]'", pos);
        return new SliceExpr(pos, obj, parts[0], parts[1], parts[2]);
    }

    public Expr ParsePrimary()
    {
        var t = _ts.Next();
        switch (t.Kind)
        {
            case TokenKind.Integer:
                if (!long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long i))
                    throw new TemplateException($"integer literal out of range: {t.Value}", t.Position);
                return new LiteralExpr(t.Position, JinjaValue.FromInt(i));
            case TokenKind.Float:
                return new LiteralExpr(t.Position, JinjaValue.FromFloat(double.Parse(t.Value, CultureInfo.InvariantCulture)));
            case TokenKind.String:
                // Adjacent string literals concatenate, as in Python.
                string s = t.Value;
                while (_ts.Peek.Kind == TokenKind.String)
                    s += _ts.Next().Value;
                return new LiteralExpr(t.Position, JinjaValue.FromString(s));
            case TokenKind.Identifier:
                return Name(t);
            case TokenKind.Symbol when t.Value == "(":
                if (_ts.TryConsumeSymbol(")"))
                    return new ListExpr(t.Position, [], true);
                var inner = ParseSequence(primaryOnly: false);
                _ts.ExpectSymbol(")");
                return inner;
            case TokenKind.Symbol when t.Value == "[":
                var items = new List<Expr>();
                while (!_ts.TryConsumeSymbol("]"))
                {
                    items.Add(ParseExpression());
                    if (!_ts.Peek.IsSymbol("]"))
                        _ts.ExpectSymbol(",");
                }
                return new ListExpr(t.Position, items, false);
            case TokenKind.Symbol when t.Value == "{":
                var entries = new List<KeyValuePair<Expr, Expr>>();
                while (!_ts.TryConsumeSymbol("}"))
                {
                    var key = ParseExpression();
                    _ts.ExpectSymbol(":");
                    entries.Add(new(key, ParseExpression()));
                    if (!_ts.Peek.IsSymbol("}"))
                        _ts.ExpectSymbol(",");
                }
                return new DictExpr(t.Position, entries);
            default:
                throw new TemplateException($"expected an expression, found {TokenStream.Describe(t)}", t.Position);
        }
    }

    private Expr Name(Token t)
    {
        switch (t.Value)
        {
            case "true" or "True": return new LiteralExpr(t.Position, JinjaValue.True);
            case "false" or "False": return new LiteralExpr(t.Position, JinjaValue.False);
            case "none" or "None": return new LiteralExpr(t.Position, JinjaValue.None);
        }
        if (SpecialNames.Contains(t.Value))
            foreach (var scope in _specialScopes)
                scope.Add(t.Value);
        return new NameExpr(t.Position, t.Value);
    }

    /// <summary><c>(a, b, key=value)</c>: positional arguments first, then keyword ones.</summary>
    public List<Argument> ParseArguments()
    {
        _ts.ExpectSymbol("(");
        var args = new List<Argument>();
        bool sawKeyword = false;
        while (!_ts.TryConsumeSymbol(")"))
        {
            if (_ts.Peek.Kind == TokenKind.Symbol && _ts.Peek.Value is "*" or "**")
                throw new TemplateException("unsupported construct: argument unpacking ('*' / '**')", _ts.Peek.Position);
            if (_ts.Peek.Kind == TokenKind.Identifier && _ts.PeekAt(1).IsSymbol("="))
            {
                string name = _ts.Next().Value;
                _ts.Next();
                args.Add(new Argument(name, ParseExpression()));
                sawKeyword = true;
            }
            else
            {
                var pos = _ts.Peek.Position;
                if (sawKeyword)
                    throw new TemplateException("a positional argument follows a keyword argument", pos);
                args.Add(new Argument(null, ParseExpression()));
            }
            if (!_ts.Peek.IsSymbol(")"))
                _ts.ExpectSymbol(",");
        }
        return args;
    }

    /// <summary><c>(a, b=default)</c> of a macro or a call block's caller.</summary>
    public List<Parameter> ParseParameters()
    {
        _ts.ExpectSymbol("(");
        var ps = new List<Parameter>();
        while (!_ts.TryConsumeSymbol(")"))
        {
            var name = _ts.Next();
            if (name.Kind != TokenKind.Identifier)
                throw new TemplateException($"expected a parameter name, found {TokenStream.Describe(name)}", name.Position);
            if (ps.Any(p => p.Name == name.Value))
                throw new TemplateException($"duplicate parameter '{name.Value}'", name.Position);
            Expr? def = null;
            if (_ts.TryConsumeSymbol("="))
                def = ParseExpression();
            else if (ps.Count > 0 && ps[^1].Default is not null)
                throw new TemplateException($"parameter '{name.Value}' without a default follows one with a default", name.Position);
            ps.Add(new Parameter(name.Value, def));
            if (!_ts.Peek.IsSymbol(")"))
                _ts.ExpectSymbol(",");
        }
        return ps;
    }
}
