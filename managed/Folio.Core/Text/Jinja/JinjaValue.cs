using System.Globalization;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// One template value: a small tagged union over <see cref="JinjaValueKind"/>. Lists and dicts are mutable
/// references (a namespace's attributes change in place); everything else is immutable.
/// </summary>
public sealed class JinjaValue
{
    private readonly long _int;
    private readonly double _float;
    private readonly object? _ref;

    private JinjaValue(JinjaValueKind kind, long i = 0, double f = 0, object? r = null, bool isTuple = false)
    {
        Kind = kind;
        _int = i;
        _float = f;
        _ref = r;
        IsTuple = isTuple;
    }

    public static JinjaValue Undefined { get; } = new(JinjaValueKind.Undefined);
    public static JinjaValue None { get; } = new(JinjaValueKind.None);
    public static JinjaValue True { get; } = new(JinjaValueKind.Bool, 1);
    public static JinjaValue False { get; } = new(JinjaValueKind.Bool, 0);
    public static JinjaValue EmptyString { get; } = new(JinjaValueKind.String, r: "");

    public static JinjaValue FromBool(bool b) => b ? True : False;
    public static JinjaValue FromInt(long i) => new(JinjaValueKind.Int, i);
    public static JinjaValue FromFloat(double f) => new(JinjaValueKind.Float, f: f);
    public static JinjaValue FromString(string s) => s.Length == 0 ? EmptyString : new(JinjaValueKind.String, r: s);
    public static JinjaValue FromList(List<JinjaValue> items) => new(JinjaValueKind.List, r: items);
    public static JinjaValue FromTuple(List<JinjaValue> items) => new(JinjaValueKind.List, r: items, isTuple: true);
    public static JinjaValue FromDict(JinjaDict dict) => new(JinjaValueKind.Dict, r: dict);
    public static JinjaValue FromNamespace(JinjaDict attributes) => new(JinjaValueKind.Namespace, r: attributes);
    public static JinjaValue FromFunction(string name, JinjaFunction function) =>
        new(JinjaValueKind.Callable, r: new NamedFunction(name, function));

    public JinjaValueKind Kind { get; }

    /// <summary>True for a tuple literal (<c>(a, b)</c>); tuples otherwise behave as lists.</summary>
    public bool IsTuple { get; }

    public bool IsUndefined => Kind == JinjaValueKind.Undefined;
    public bool IsNone => Kind == JinjaValueKind.None;
    public bool IsNumber => Kind is JinjaValueKind.Int or JinjaValueKind.Float;

    public bool AsBool => Kind == JinjaValueKind.Bool ? _int != 0 : throw Wrong("a boolean");
    public long AsInt => Kind == JinjaValueKind.Int ? _int : throw Wrong("an integer");
    public string AsString => Kind == JinjaValueKind.String ? (string)_ref! : throw Wrong("a string");
    public List<JinjaValue> AsList => Kind == JinjaValueKind.List ? (List<JinjaValue>)_ref! : throw Wrong("a list");
    public JinjaDict AsDict => Kind is JinjaValueKind.Dict or JinjaValueKind.Namespace ? (JinjaDict)_ref! : throw Wrong("a dict");
    public string FunctionName => Kind == JinjaValueKind.Callable ? ((NamedFunction)_ref!).Name : throw Wrong("a callable");
    public JinjaFunction AsFunction => Kind == JinjaValueKind.Callable ? ((NamedFunction)_ref!).Function : throw Wrong("a callable");

    /// <summary>The number as a double (ints, floats and, as in Python, booleans).</summary>
    public double AsNumber => Kind switch
    {
        JinjaValueKind.Int or JinjaValueKind.Bool => _int,
        JinjaValueKind.Float => _float,
        _ => throw Wrong("a number"),
    };

    /// <summary>Python truthiness: empty strings, lists and dicts, zero, none and undefined are false.</summary>
    public bool IsTruthy => Kind switch
    {
        JinjaValueKind.Undefined or JinjaValueKind.None => false,
        JinjaValueKind.Bool or JinjaValueKind.Int => _int != 0,
        JinjaValueKind.Float => _float != 0 && !double.IsNaN(_float),
        JinjaValueKind.String => ((string)_ref!).Length > 0,
        JinjaValueKind.List => ((List<JinjaValue>)_ref!).Count > 0,
        JinjaValueKind.Dict => ((JinjaDict)_ref!).Count > 0,
        _ => true,
    };

    /// <summary>The name of the kind as errors print it.</summary>
    public string TypeName => Kind switch
    {
        JinjaValueKind.List => IsTuple ? "tuple" : "list",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    private InvalidOperationException Wrong(string expected) =>
        new($"expected {expected}, found {TypeName}");

    public override string ToString() => Kind switch
    {
        JinjaValueKind.String => (string)_ref!,
        JinjaValueKind.Int => _int.ToString(CultureInfo.InvariantCulture),
        JinjaValueKind.Float => _float.ToString("R", CultureInfo.InvariantCulture),
        _ => TypeName,
    };

    /// <summary>Reference to a function with the name errors print.</summary>
    private sealed record NamedFunction(string Name, JinjaFunction Function);
}
