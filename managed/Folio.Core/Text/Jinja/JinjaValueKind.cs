namespace Folio.Core.Text.Jinja;

/// <summary>The kinds of value a template computes with (Python's types as Jinja templates see them).</summary>
public enum JinjaValueKind
{
    Undefined,
    None,
    Bool,
    Int,
    Float,
    String,
    /// <summary>A list or tuple (<see cref="JinjaValue.IsTuple"/> tells which; they behave alike).</summary>
    List,
    /// <summary>An insertion-ordered mapping with string keys.</summary>
    Dict,
    /// <summary>The object <c>namespace()</c> returns: attributes are assignable with <c>set ns.x = ...</c>.</summary>
    Namespace,
    /// <summary>A macro, a built-in function or a bound method.</summary>
    Callable,
}
