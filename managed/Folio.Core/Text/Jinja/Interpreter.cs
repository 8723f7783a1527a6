using System.Runtime.CompilerServices;
using System.Text;
using Folio.Core.Text.Jinja.Syntax;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// Renders a parsed template. Statements are here; expressions in Interpreter.Expressions.cs; macros and
/// call blocks in Interpreter.Macros.cs. One interpreter renders one template once (it is not shared
/// between threads).
/// </summary>
internal sealed partial class Interpreter
{
    private const int MaxCallDepth = 256;   // deep enough for any real template; stops runaway macro recursion
    private int _loopDepth;
    private int _callDepth;

    public string Render(TemplateBody body, Scope scope)
    {
        var sb = new StringBuilder();
        RenderBlock(body.Statements, scope, sb);
        return sb.ToString();
    }

    private LoopSignal RenderBlock(List<Stmt> statements, Scope scope, StringBuilder sb)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        foreach (var stmt in statements)
        {
            switch (stmt)
            {
                case TextStmt t:
                    sb.Append(t.Text);
                    break;
                case OutputStmt o:
                    var value = Eval(o.Value, scope);
                    sb.Append(Guard(o.Position, () => ValueText.Output(value)));
                    break;
                case IfStmt i:
                    var chosen = i.Else;
                    foreach (var branch in i.Branches)
                    {
                        if (Eval(branch.Condition, scope).IsTruthy)
                        {
                            chosen = branch.Body;
                            break;
                        }
                    }
                    var signal = RenderBlock(chosen, scope, sb);
                    if (signal != LoopSignal.None)
                        return signal;
                    break;
                case ForStmt f:
                    RenderFor(f, scope, sb);
                    break;
                case SetStmt s:
                    ExecuteSet(s, scope);
                    break;
                case MacroStmt m:
                    scope.Set(m.Name, MakeMacro(m, scope));
                    break;
                case CallBlockStmt c:
                    var called = CallBlock(c, scope);
                    sb.Append(Guard(c.Position, () => ValueText.Output(called)));
                    break;
                case FilterBlockStmt fb:
                    var inner = new StringBuilder();
                    RenderBlock(fb.Body, scope, inner);
                    var args = EvalArguments(fb.Arguments, scope, fb.Position, null);
                    var filtered = Guard(fb.Position, () => BuiltinFilters.Apply(fb.Filter, JinjaValue.FromString(inner.ToString()), args));
                    sb.Append(Guard(fb.Position, () => ValueText.Output(filtered)));
                    break;
                case LoopControlStmt lc:
                    if (_loopDepth == 0)
                        throw new TemplateException($"'{{% {(lc.IsBreak ? "break" : "continue")} %}}' outside a loop", lc.Position);
                    return lc.IsBreak ? LoopSignal.Break : LoopSignal.Continue;
                default:
                    throw new TemplateException($"unsupported statement {stmt.GetType().Name}", stmt.Position);
            }
        }
        return LoopSignal.None;
    }

    /// <summary>
    /// A for loop. As in @huggingface/jinja, the loop's <c>else</c> renders when no iteration ran to its end
    /// (no items, or every iteration ended by break/continue); Python renders it only for no items.
    /// Iterating a dict gives its keys, a string its code points, undefined nothing.
    /// </summary>
    private void RenderFor(ForStmt f, Scope outer, StringBuilder sb)
    {
        var loopScope = new Scope(outer);
        var iterable = Eval(f.Iterable, loopScope);
        List<JinjaValue> candidates = iterable.Kind switch
        {
            JinjaValueKind.List => iterable.AsList,
            JinjaValueKind.Dict => iterable.AsDict.Entries.Select(e => JinjaValue.FromString(e.Key)).ToList(),
            JinjaValueKind.String => Slicing.CodePoints(iterable.AsString).Select(JinjaValue.FromString).ToList(),
            JinjaValueKind.Undefined => [],
            _ => throw new TemplateException($"cannot iterate over a {iterable.TypeName} value", f.Iterable.Position),
        };
        var items = new List<JinjaValue>(candidates.Count);
        foreach (var item in candidates)
        {
            if (f.Unpack)
            {
                if (item.Kind != JinjaValueKind.List)
                    throw new TemplateException($"cannot unpack a {item.TypeName} value into {f.Targets.Count} loop variables", f.Position);
                if (item.AsList.Count != f.Targets.Count)
                    throw new TemplateException($"too {(item.AsList.Count < f.Targets.Count ? "few" : "many")} values to unpack (expected {f.Targets.Count})", f.Position);
            }
            if (f.Filter is not null)
            {
                var testScope = new Scope(loopScope);
                Bind(f, item, testScope);
                if (!Eval(f.Filter, testScope).IsTruthy)
                    continue;
            }
            items.Add(item);
        }

        bool noIteration = true;
        _loopDepth++;
        try
        {
            for (int i = 0; i < items.Count; i++)
            {
                loopScope.Set("loop", LoopObject(items, i));
                Bind(f, items[i], loopScope);
                var signal = RenderBlock(f.Body, loopScope, sb);
                if (signal == LoopSignal.Break)
                    break;
                if (signal == LoopSignal.Continue)
                    continue;
                noIteration = false;
            }
        }
        finally
        {
            _loopDepth--;
        }
        if (noIteration)
            RenderBlock(f.Else, loopScope, sb);
    }

    private static void Bind(ForStmt f, JinjaValue item, Scope scope)
    {
        if (!f.Unpack)
        {
            scope.Set(f.Targets[0], item);
            return;
        }
        for (int j = 0; j < f.Targets.Count; j++)
            scope.Set(f.Targets[j], item.AsList[j]);
    }

    /// <summary>The <c>loop</c> variable: index, index0, revindex, revindex0, first, last, length, previtem, nextitem, cycle().</summary>
    private static JinjaValue LoopObject(List<JinjaValue> items, int i)
    {
        int n = items.Count;
        var d = new JinjaDict();
        d.Set("index", JinjaValue.FromInt(i + 1));
        d.Set("index0", JinjaValue.FromInt(i));
        d.Set("revindex", JinjaValue.FromInt(n - i));
        d.Set("revindex0", JinjaValue.FromInt(n - i - 1));
        d.Set("first", JinjaValue.FromBool(i == 0));
        d.Set("last", JinjaValue.FromBool(i == n - 1));
        d.Set("length", JinjaValue.FromInt(n));
        d.Set("previtem", i > 0 ? items[i - 1] : JinjaValue.Undefined);
        d.Set("nextitem", i < n - 1 ? items[i + 1] : JinjaValue.Undefined);
        d.Set("cycle", JinjaValue.FromFunction("cycle", a =>
            a.Positional.Count > 0 ? a.Positional[i % a.Positional.Count] : throw new JinjaError("loop.cycle() needs at least one value")));
        return JinjaValue.FromDict(d);
    }

    private void ExecuteSet(SetStmt s, Scope scope)
    {
        JinjaValue value;
        if (s.Value is not null)
            value = Eval(s.Value, scope);
        else
        {
            var sb = new StringBuilder();
            RenderBlock(s.Body!, scope, sb);
            value = JinjaValue.FromString(sb.ToString());
        }
        switch (s.Target)
        {
            case NameExpr n:
                scope.Set(n.Name, value);
                return;
            case ListExpr tuple:
                if (value.Kind != JinjaValueKind.List)
                    throw new TemplateException($"cannot unpack a {value.TypeName} value", s.Position);
                if (value.AsList.Count != tuple.Items.Count)
                    throw new TemplateException($"too {(value.AsList.Count < tuple.Items.Count ? "few" : "many")} values to unpack (expected {tuple.Items.Count})", s.Position);
                for (int i = 0; i < tuple.Items.Count; i++)
                    scope.Set(((NameExpr)tuple.Items[i]).Name, value.AsList[i]);
                return;
            case AttrExpr attr:
                var target = Eval(attr.Object, scope);
                if (target.Kind != JinjaValueKind.Namespace)
                    throw new TemplateException($"cannot set an attribute on a {target.TypeName} value (only on a namespace())", attr.Position);
                target.AsDict.Set(attr.Name, value);
                return;
            default:
                throw new TemplateException("cannot assign to this expression", s.Target.Position);
        }
    }

    /// <summary>Runs <paramref name="f"/>, turning a position-less error into a <see cref="TemplateException"/> at <paramref name="pos"/>.</summary>
    private static T Guard<T>(SourcePosition pos, Func<T> f)
    {
        try
        {
            return f();
        }
        catch (JinjaError e)
        {
            throw new TemplateException(e.Message, pos);
        }
        catch (InvalidOperationException e)
        {
            throw new TemplateException(e.Message, pos);
        }
    }
}
