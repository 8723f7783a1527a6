namespace Folio.Core.Text.Jinja;

/// <summary>
/// The tests of <c>x is name</c>. Those @huggingface/jinja has behave as there (<c>iterable</c> is true for
/// lists and strings, <c>mapping</c> for dicts, <c>sequence</c> for lists, dicts and strings; <c>odd</c> and
/// <c>even</c> require an integer); Python Jinja's <c>divisibleby</c>, <c>ne</c>, <c>gt</c>... are added
/// with Python's meaning. An unknown test is an error.
/// </summary>
internal static class BuiltinTests
{
    public static bool Run(string name, JinjaValue v, List<JinjaValue> args)
    {
        switch (name)
        {
            case "defined": return !v.IsUndefined;
            case "undefined": return v.IsUndefined;
            case "none": return v.IsNone;
            case "boolean": return v.Kind == JinjaValueKind.Bool;
            case "true": return v.Kind == JinjaValueKind.Bool && v.AsBool;
            case "false": return v.Kind == JinjaValueKind.Bool && !v.AsBool;
            case "string": return v.Kind == JinjaValueKind.String;
            case "number": return v.IsNumber;
            case "integer": return v.Kind == JinjaValueKind.Int;
            case "float": return v.Kind == JinjaValueKind.Float;
            case "iterable": return v.Kind is JinjaValueKind.List or JinjaValueKind.String;
            case "mapping": return v.Kind == JinjaValueKind.Dict;
            case "sequence": return v.Kind is JinjaValueKind.List or JinjaValueKind.Dict or JinjaValueKind.String;
            case "callable": return v.Kind == JinjaValueKind.Callable;
            case "lower": return v.Kind == JinjaValueKind.String && v.AsString == JsText.ToLower(v.AsString);
            case "upper": return v.Kind == JinjaValueKind.String && v.AsString == JsText.ToUpper(v.AsString);
            case "odd": return Integer(v, name) % 2 != 0;
            case "even": return Integer(v, name) % 2 == 0;
            case "divisibleby":
                long d = Integer(Arg(args, name), name);
                return d != 0 ? Integer(v, name) % d == 0 : throw new JinjaError("divisibleby(0)");
            case "eq" or "equalto" or "==": return ValueEquality.StrictEquals(v, Arg(args, name));
            case "ne" or "!=": return !ValueEquality.StrictEquals(v, Arg(args, name));
            case "sameas": return ValueEquality.StrictEquals(v, Arg(args, name));
            case "gt" or "greaterthan" or ">": return Operators.Apply(">", v, Arg(args, name)).AsBool;
            case "ge" or ">=": return Operators.Apply(">=", v, Arg(args, name)).AsBool;
            case "lt" or "lessthan" or "<": return Operators.Apply("<", v, Arg(args, name)).AsBool;
            case "le" or "<=": return Operators.Apply("<=", v, Arg(args, name)).AsBool;
            case "in": return Operators.Apply("in", v, Arg(args, name)).AsBool;
            default: throw new JinjaError($"unsupported test '{name}'");
        }
    }

    private static long Integer(JinjaValue v, string test) =>
        v.Kind == JinjaValueKind.Int ? v.AsInt : throw new JinjaError($"test '{test}' needs an integer, found {v.TypeName}");

    private static JinjaValue Arg(List<JinjaValue> args, string test) =>
        args.Count > 0 ? args[0] : throw new JinjaError($"test '{test}' needs an argument");
}
