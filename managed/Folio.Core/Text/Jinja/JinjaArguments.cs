namespace Folio.Core.Text.Jinja;

/// <summary>
/// The arguments of one call: positional values, keyword values in source order, and the <c>caller</c>
/// of a <c>{% call %}</c> block (null for an ordinary call). <see cref="Position"/> is the call's place in the
/// template, for error messages.
/// </summary>
public sealed class JinjaArguments
{
    public static JinjaArguments Empty(SourcePosition position) => new([], new JinjaDict(), null, position);

    public JinjaArguments(List<JinjaValue> positional, JinjaDict keywords, JinjaValue? caller, SourcePosition position)
    {
        Positional = positional;
        Keywords = keywords;
        Caller = caller;
        Position = position;
    }

    public List<JinjaValue> Positional { get; }
    public JinjaDict Keywords { get; }
    public JinjaValue? Caller { get; }
    public SourcePosition Position { get; }

    /// <summary>The argument at <paramref name="index"/>, else keyword <paramref name="name"/>, else null.</summary>
    public JinjaValue? Get(int index, string name) =>
        index < Positional.Count ? Positional[index] : Keywords.TryGetValue(name, out var v) ? v : null;
}
