using System.Globalization;
using System.Runtime.CompilerServices;
using Folio.Core.Text.Jinja.Syntax;

namespace Folio.Core.Text.Jinja;

/// <summary>Expression evaluation.</summary>
internal sealed partial class Interpreter
{
    private JinjaValue Eval(Expr e, Scope scope)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        try
        {
            return EvalCore(e, scope);
        }
        catch (JinjaError err)
        {
            throw new TemplateException(err.Message, e.Position);
        }
        catch (InvalidOperationException err)
        {
            throw new TemplateException(err.Message, e.Position);
        }
    }

    private JinjaValue EvalCore(Expr e, Scope scope)
    {
        switch (e)
        {
            case LiteralExpr l:
                return l.Value;
            case NameExpr n:
                return scope.Lookup(n.Name);
            case ListExpr list:
                var items = list.Items.Select(i => Eval(i, scope)).ToList();
                return list.IsTuple ? JinjaValue.FromTuple(items) : JinjaValue.FromList(items);
            case DictExpr d:
                var dict = new JinjaDict();
                foreach (var (k, v) in d.Entries)
                {
                    var key = Eval(k, scope);
                    if (key.Kind != JinjaValueKind.String)
                        throw new TemplateException($"dict keys must be strings, found {key.TypeName}", k.Position);
                    dict.Set(key.AsString, Eval(v, scope));
                }
                return JinjaValue.FromDict(dict);
            case AttrExpr a:
                var obj = Eval(a.Object, scope);
                var name = char.IsAsciiDigit(a.Name[0])
                    ? JinjaValue.FromInt(long.Parse(a.Name, CultureInfo.InvariantCulture))
                    : JinjaValue.FromString(a.Name);
                return Members.Get(obj, name);
            case IndexExpr ix:
                var target = Eval(ix.Object, scope);
                return Members.Get(target, Eval(ix.Index, scope));
            case SliceExpr sl:
                return Slice(sl, scope);
            case CallExpr c:
                var callee = Eval(c.Callee, scope);
                if (callee.IsUndefined)
                    throw new TemplateException(UnknownCallee(c.Callee, scope), c.Position);
                var args = EvalArguments(c.Arguments, scope, c.Position, null);
                return Invoke(callee, args);
            case FilterExpr f:
                var operand = Eval(f.Operand, scope);
                return BuiltinFilters.Apply(f.Name, operand, EvalArguments(f.Arguments, scope, f.Position, null));
            case TestExpr t:
                var tested = Eval(t.Operand, scope);
                var testArgs = t.Arguments.Select(x => Eval(x.Value, scope)).ToList();
                return JinjaValue.FromBool(BuiltinTests.Run(t.Name, tested, testArgs) != t.Negated);
            case BinaryExpr b:
                var left = Eval(b.Left, scope);
                if (b.Operator == "and")
                    return left.IsTruthy ? Eval(b.Right, scope) : left;
                if (b.Operator == "or")
                    return left.IsTruthy ? left : Eval(b.Right, scope);
                return Operators.Apply(b.Operator, left, Eval(b.Right, scope));
            case UnaryExpr u:
                var value = Eval(u.Operand, scope);
                if (u.Operator == "not")
                    return JinjaValue.FromBool(!value.IsTruthy);
                if (!ValueEquality.IsNumeric(value))
                    throw new JinjaError($"unary '{u.Operator}' is not defined for a {value.TypeName} value");
                if (u.Operator == "+")
                    return value.Kind == JinjaValueKind.Bool ? JinjaValue.FromInt(value.AsBool ? 1 : 0) : value;
                return value.Kind switch
                {
                    JinjaValueKind.Float => JinjaValue.FromFloat(-value.AsNumber),
                    JinjaValueKind.Bool => JinjaValue.FromInt(value.AsBool ? -1 : 0),
                    _ => value.AsInt == long.MinValue ? throw new JinjaError("integer overflow") : JinjaValue.FromInt(-value.AsInt),
                };
            case CondExpr ce:
                if (Eval(ce.Condition, scope).IsTruthy)
                    return Eval(ce.Then, scope);
                return ce.Else is null ? JinjaValue.Undefined : Eval(ce.Else, scope);
            default:
                throw new TemplateException($"unsupported expression {e.GetType().Name}", e.Position);
        }
    }

    /// <summary>Names what a call to an undefined value tried to call: an unknown function, or an unknown method of a type.</summary>
    private string UnknownCallee(Expr callee, Scope scope) => callee switch
    {
        NameExpr n => $"unknown function '{n.Name}'",
        AttrExpr a => $"unknown method '{a.Name}' of a {Eval(a.Object, scope).TypeName} value",
        _ => "call of an undefined value",
    };

    private JinjaValue Slice(SliceExpr sl, Scope scope)
    {
        var obj = Eval(sl.Object, scope);
        long? Part(Expr? p)
        {
            if (p is null)
                return null;
            var v = Eval(p, scope);
            if (v.IsUndefined)
                return null;
            return v.Kind == JinjaValueKind.Int ? v.AsInt : throw new TemplateException($"slice bounds must be integers, found {v.TypeName}", p.Position);
        }
        long? start = Part(sl.Start), stop = Part(sl.Stop), step = Part(sl.Step);
        return obj.Kind switch
        {
            JinjaValueKind.List => JinjaValue.FromList(Slicing.Slice(obj.AsList, start, stop, step)),
            JinjaValueKind.String => JinjaValue.FromString(string.Concat(Slicing.Slice(Slicing.CodePoints(obj.AsString), start, stop, step))),
            _ => throw new JinjaError($"cannot slice a {obj.TypeName} value"),
        };
    }

    private JinjaArguments EvalArguments(List<Argument> arguments, Scope scope, SourcePosition pos, JinjaValue? caller)
    {
        var positional = new List<JinjaValue>();
        var keywords = new JinjaDict();
        foreach (var arg in arguments)
        {
            if (arg.Name is null)
                positional.Add(Eval(arg.Value, scope));
            else if (keywords.ContainsKey(arg.Name))
                throw new TemplateException($"keyword argument '{arg.Name}' given twice", arg.Value.Position);
            else
                keywords.Set(arg.Name, Eval(arg.Value, scope));
        }
        return new JinjaArguments(positional, keywords, caller, pos);
    }

    private JinjaValue Invoke(JinjaValue callee, JinjaArguments args)
    {
        if (callee.Kind != JinjaValueKind.Callable)
            throw new JinjaError(callee.IsUndefined ? "call of an undefined value (unknown function or method)" : $"a {callee.TypeName} value is not callable");
        if (++_callDepth > MaxCallDepth)
            throw new JinjaError($"calls nested deeper than {MaxCallDepth} (runaway macro recursion?)");
        try
        {
            return callee.AsFunction(args);
        }
        finally
        {
            _callDepth--;
        }
    }
}
