namespace Folio.Core.Text.Jinja;

/// <summary>
/// The options of <c>tojson</c>: <see cref="Indent"/> (null or 0 = one line), <c>ensure_ascii</c>,
/// <c>sort_keys</c>, <c>separators</c>. <see cref="UndefinedAsNull"/> is false only when a list or dict is
/// printed, where @huggingface/jinja writes an undefined member as <c>undefined</c>.
/// </summary>
internal sealed record JsonOptions(int? Indent, bool EnsureAscii, bool SortKeys, string? ItemSeparator, string? KeySeparator, bool UndefinedAsNull)
{
    public static JsonOptions Default { get; } = new(null, false, false, null, null, true);
    public static JsonOptions Printing { get; } = new(null, false, false, null, null, false);
}
