using System.Runtime.CompilerServices;

namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>
/// Parses tokens into statements. Statements: if/elif/else, for (else, unpacking, <c>if</c> filter), set
/// (name, tuple, <c>ns.attr</c>, block form), macro, call, filter, break, continue, generation. Anything else
/// (<c>include</c>, <c>extends</c>, <c>block</c>, <c>import</c>, <c>with</c>, ...) is refused with its position.
/// Expressions are in <see cref="ExpressionParser"/>.
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> EndTags =
        ["elif", "else", "endif", "endfor", "endmacro", "endcall", "endfilter", "endset", "endgeneration"];

    private readonly TokenStream _ts;
    private readonly ExpressionParser _expr;

    private Parser(List<Token> tokens)
    {
        _ts = new TokenStream(tokens);
        _expr = new ExpressionParser(_ts);
    }

    public static TemplateBody Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var body = new List<Stmt>();
        while (parser._ts.Peek.Kind != TokenKind.End)
        {
            if (parser.AtEndTag(out string name))
                throw new TemplateException($"unexpected '{{% {name} %}}' (no block is open)", parser._ts.Peek.Position);
            parser.ParseInto(body);
        }
        return new TemplateBody(body);
    }

    /// <summary>True when the next tokens are <c>{% name</c> for one of the block-closing names.</summary>
    private bool AtEndTag(out string name)
    {
        name = "";
        if (_ts.Peek.Kind != TokenKind.OpenStatement || _ts.PeekAt(1).Kind != TokenKind.Identifier)
            return false;
        name = _ts.PeekAt(1).Value;
        return EndTags.Contains(name);
    }

    private bool AtTag(params string[] names) =>
        _ts.Peek.Kind == TokenKind.OpenStatement && _ts.PeekAt(1).Kind == TokenKind.Identifier && names.Contains(_ts.PeekAt(1).Value);

    /// <summary>Parses statements until one of <paramref name="terminators"/> opens (not consumed).</summary>
    private List<Stmt> ParseBody(SourcePosition opened, string block, params string[] terminators)
    {
        var body = new List<Stmt>();
        while (!AtTag(terminators))
        {
            if (_ts.Peek.Kind == TokenKind.End)
                throw new TemplateException($"'{{% {block} %}}' is never closed (expected '{{% {terminators[^1]} %}}')", opened);
            if (AtEndTag(out string name))
                throw new TemplateException($"unexpected '{{% {name} %}}' inside '{{% {block} %}}'", _ts.Peek.Position);
            ParseInto(body);
        }
        return body;
    }

    /// <summary>Consumes <c>{% name %}</c>.</summary>
    private void ExpectTag(string name)
    {
        _ts.Expect(TokenKind.OpenStatement, "{%");
        _ts.ExpectName(name);
        _ts.Expect(TokenKind.CloseStatement, "%}");
    }

    private void ParseInto(List<Stmt> body)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        var t = _ts.Next();
        switch (t.Kind)
        {
            case TokenKind.Text:
                body.Add(new TextStmt(t.Position, t.Value));
                return;
            case TokenKind.Comment:
                return;
            case TokenKind.OpenExpression:
                var value = _expr.ParseExpression();
                _ts.Expect(TokenKind.CloseExpression, "}}");
                body.Add(new OutputStmt(t.Position, value));
                return;
            case TokenKind.OpenStatement:
                ParseStatement(t.Position, body);
                return;
            default:
                throw new TemplateException($"unexpected '{t.Value}'", t.Position);
        }
    }

    private void ParseStatement(SourcePosition pos, List<Stmt> body)
    {
        var nameToken = _ts.Next();
        if (nameToken.Kind != TokenKind.Identifier)
            throw new TemplateException($"expected a statement name after '{{%', found '{nameToken.Value}'", nameToken.Position);
        switch (nameToken.Value)
        {
            case "if": body.Add(ParseIf(pos)); ExpectTag("endif"); return;
            case "for": body.Add(ParseFor(pos)); ExpectTag("endfor"); return;
            case "set": body.Add(ParseSet(pos)); return;
            case "macro": body.Add(ParseMacro(pos)); return;
            case "call": body.Add(ParseCall(pos)); return;
            case "filter": body.Add(ParseFilterBlock(pos)); return;
            case "break" or "continue":
                _ts.Expect(TokenKind.CloseStatement, "%}");
                body.Add(new LoopControlStmt(pos, nameToken.Value == "break"));
                return;
            case "generation":
                // transformers' marker for assistant-token masks: renders its body unchanged.
                _ts.Expect(TokenKind.CloseStatement, "%}");
                body.AddRange(ParseBody(pos, "generation", "endgeneration"));
                ExpectTag("endgeneration");
                return;
            default:
                throw new TemplateException($"unsupported statement '{{% {nameToken.Value} %}}'", nameToken.Position);
        }
    }

    private IfStmt ParseIf(SourcePosition pos)
    {
        var branches = new List<IfBranch>();
        var condition = _expr.ParseExpression();
        _ts.Expect(TokenKind.CloseStatement, "%}");
        branches.Add(new IfBranch(condition, ParseBody(pos, "if", "elif", "else", "endif")));
        while (AtTag("elif"))
        {
            _ts.Next();
            _ts.Next();
            var c = _expr.ParseExpression();
            _ts.Expect(TokenKind.CloseStatement, "%}");
            branches.Add(new IfBranch(c, ParseBody(pos, "if", "elif", "else", "endif")));
        }
        var elseBody = new List<Stmt>();
        if (AtTag("else"))
        {
            _ts.Next();
            _ts.Next();
            _ts.Expect(TokenKind.CloseStatement, "%}");
            elseBody = ParseBody(pos, "if", "endif");
        }
        return new IfStmt(pos, branches, elseBody);
    }

    private ForStmt ParseFor(SourcePosition pos)
    {
        var targets = new List<string>();
        bool parenthesized = _ts.TryConsumeSymbol("(");
        do
        {
            var name = _ts.Next();
            if (name.Kind != TokenKind.Identifier)
                throw new TemplateException($"expected a loop variable name, found '{name.Value}'", name.Position);
            targets.Add(name.Value);
        }
        while (_ts.TryConsumeSymbol(","));
        if (parenthesized)
            _ts.ExpectSymbol(")");
        _ts.ExpectName("in");
        var iterable = _expr.ParseOr();
        Expr? filter = null;
        if (_ts.Peek.IsName("if"))
        {
            _ts.Next();
            filter = _expr.ParseOr();
        }
        if (_ts.Peek.IsName("recursive"))
            throw new TemplateException("unsupported construct 'recursive' loop", _ts.Peek.Position);
        _ts.Expect(TokenKind.CloseStatement, "%}");
        var body = ParseBody(pos, "for", "else", "endfor");
        var elseBody = new List<Stmt>();
        if (AtTag("else"))
        {
            _ts.Next();
            _ts.Next();
            _ts.Expect(TokenKind.CloseStatement, "%}");
            elseBody = ParseBody(pos, "for", "endfor");
        }
        return new ForStmt(pos, targets, targets.Count > 1 || parenthesized, iterable, filter, body, elseBody);
    }

    private SetStmt ParseSet(SourcePosition pos)
    {
        var target = _expr.ParseSequence(primaryOnly: true);
        if (target is not (NameExpr or AttrExpr or ListExpr { IsTuple: true }))
            throw new TemplateException("cannot assign to this expression", target.Position);
        if (target is ListExpr tuple && tuple.Items.Any(i => i is not NameExpr))
            throw new TemplateException("a tuple assignment can only unpack into names", target.Position);
        if (_ts.TryConsumeSymbol("="))
        {
            var value = _expr.ParseSequence(primaryOnly: false);
            _ts.Expect(TokenKind.CloseStatement, "%}");
            return new SetStmt(pos, target, value, null);
        }
        _ts.Expect(TokenKind.CloseStatement, "%}");
        var body = ParseBody(pos, "set", "endset");
        ExpectTag("endset");
        return new SetStmt(pos, target, null, body);
    }

    private MacroStmt ParseMacro(SourcePosition pos)
    {
        var name = _ts.Next();
        if (name.Kind != TokenKind.Identifier)
            throw new TemplateException($"expected a macro name, found '{name.Value}'", name.Position);
        var parameters = _expr.ParseParameters();
        _ts.Expect(TokenKind.CloseStatement, "%}");
        _expr.BeginSpecialNameScope();
        var body = ParseBody(pos, "macro", "endmacro");
        var uses = _expr.EndSpecialNameScope();
        ExpectTag("endmacro");
        return new MacroStmt(pos, name.Value, parameters, body, uses);
    }

    private CallBlockStmt ParseCall(SourcePosition pos)
    {
        var parameters = _ts.Peek.IsSymbol("(") ? _expr.ParseParameters() : [];
        var callee = _expr.ParsePrimary();
        if (callee is not NameExpr)
            throw new TemplateException("expected a macro name after 'call'", callee.Position);
        if (!_ts.Peek.IsSymbol("("))
            throw new TemplateException("expected '(' after the macro name in 'call'", _ts.Peek.Position);
        var call = new CallExpr(callee.Position, callee, _expr.ParseArguments());
        _ts.Expect(TokenKind.CloseStatement, "%}");
        _expr.BeginSpecialNameScope();
        var body = ParseBody(pos, "call", "endcall");
        var uses = _expr.EndSpecialNameScope();
        ExpectTag("endcall");
        return new CallBlockStmt(pos, call, parameters, body, uses);
    }

    private FilterBlockStmt ParseFilterBlock(SourcePosition pos)
    {
        var name = _ts.Next();
        if (name.Kind != TokenKind.Identifier)
            throw new TemplateException($"expected a filter name, found '{name.Value}'", name.Position);
        var args = _ts.Peek.IsSymbol("(") ? _expr.ParseArguments() : [];
        if (_ts.Peek.IsSymbol("|"))
            throw new TemplateException("unsupported construct: chained filters in '{% filter %}'", _ts.Peek.Position);
        _ts.Expect(TokenKind.CloseStatement, "%}");
        var body = ParseBody(pos, "filter", "endfilter");
        ExpectTag("endfilter");
        return new FilterBlockStmt(pos, name.Value, args, body);
    }
}
