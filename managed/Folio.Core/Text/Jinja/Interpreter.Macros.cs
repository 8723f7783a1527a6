using System.Text;
using Folio.Core.Text.Jinja.Syntax;

namespace Folio.Core.Text.Jinja;

/// <summary>Macros and call blocks.</summary>
internal sealed partial class Interpreter
{
    /// <summary>
    /// A macro closes over the scope it was defined in. Arguments bind positionally, then by keyword;
    /// defaults are evaluated after all names are bound. Extra arguments are an error unless the body reads
    /// <c>varargs</c>/<c>kwargs</c>; <c>caller</c> is the call block's body when called from <c>{% call %}</c>.
    /// </summary>
    private JinjaValue MakeMacro(MacroStmt m, Scope definition) =>
        JinjaValue.FromFunction(m.Name, args =>
        {
            var parent = definition;
            if (m.Uses.Contains("caller"))
            {
                parent = new Scope(definition);
                parent.Set("caller", args.Caller ?? JinjaValue.Undefined);
            }
            var scope = new Scope(parent);
            BindArguments($"macro '{m.Name}'", m.Parameters, m.Uses, args, scope);
            return RenderBody(m.Body, scope);
        });

    private JinjaValue CallBlock(CallBlockStmt c, Scope scope)
    {
        var caller = JinjaValue.FromFunction("caller", args =>
        {
            var callerScope = new Scope(scope);
            BindArguments("caller", c.CallerParameters, c.Uses, args, callerScope);
            return RenderBody(c.Body, callerScope);
        });
        var macro = Eval(c.Call.Callee, scope);
        var callArgs = EvalArguments(c.Call.Arguments, scope, c.Position, caller);
        return Guard(c.Position, () => Invoke(macro, callArgs));
    }

    /// <summary>Renders a macro or caller body; loop control does not cross it.</summary>
    private JinjaValue RenderBody(List<Stmt> body, Scope scope)
    {
        int savedLoopDepth = _loopDepth;
        _loopDepth = 0;
        try
        {
            var sb = new StringBuilder();
            RenderBlock(body, scope, sb);
            return JinjaValue.FromString(sb.ToString());
        }
        finally
        {
            _loopDepth = savedLoopDepth;
        }
    }

    private void BindArguments(string what, List<Parameter> parameters, IReadOnlySet<string> uses, JinjaArguments args, Scope scope)
    {
        var keywords = args.Keywords.Copy();
        var remaining = new JinjaDict();
        var pending = new List<Parameter>();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            JinjaValue? value = i < args.Positional.Count ? args.Positional[i] : null;
            if (value is null && keywords.TryGetValue(p.Name, out var kv))
                value = kv;
            if (value is null && p.Default is not null)
                pending.Add(p);
            scope.Set(p.Name, value ?? JinjaValue.Undefined);
        }
        foreach (var (k, v) in keywords.Entries)
            if (!parameters.Any(p => p.Name == k) || parameters.FindIndex(p => p.Name == k) < args.Positional.Count)
                remaining.Set(k, v);
        if (uses.Contains("kwargs"))
            scope.Set("kwargs", JinjaValue.FromDict(remaining));
        else if (remaining.Count > 0)
            throw new JinjaError($"{what} takes no keyword argument '{remaining.Entries[0].Key}'");
        var extra = args.Positional.Skip(parameters.Count).ToList();
        if (uses.Contains("varargs"))
            scope.Set("varargs", JinjaValue.FromList(extra));
        else if (extra.Count > 0)
            throw new JinjaError($"{what} takes at most {parameters.Count} argument(s), got {args.Positional.Count}");
        foreach (var p in pending)
            scope.Set(p.Name, Eval(p.Default!, scope));
    }
}
