namespace Folio.Core.Text.Jinja;

/// <summary>
/// One level of variables: the globals, the render context, a for loop's body, a macro call. Lookups walk to
/// the parent; <c>set</c> always writes the current level, so a <c>set</c> inside a loop or macro does not
/// leak out (as in Jinja).
/// </summary>
internal sealed class Scope
{
    private readonly Dictionary<string, JinjaValue> _vars = new(StringComparer.Ordinal);

    public Scope(Scope? parent) => Parent = parent;

    public Scope? Parent { get; }

    public JinjaValue Lookup(string name)
    {
        for (var s = this; s is not null; s = s.Parent)
            if (s._vars.TryGetValue(name, out var v))
                return v;
        return JinjaValue.Undefined;
    }

    public void Set(string name, JinjaValue value) => _vars[name] = value;
}
