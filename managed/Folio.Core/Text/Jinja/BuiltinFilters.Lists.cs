namespace Folio.Core.Text.Jinja;

/// <summary>The filters that take a list.</summary>
internal static partial class BuiltinFilters
{
    private static JinjaValue? ListFilter(string name, JinjaValue v, JinjaArguments a)
    {
        var items = v.AsList;
        switch (name)
        {
            case "list": return JinjaValue.FromList([.. items]);
            case "first": return items.Count > 0 ? items[0] : JinjaValue.Undefined;
            case "last": return items.Count > 0 ? items[^1] : JinjaValue.Undefined;
            case "reverse": return JinjaValue.FromList(Enumerable.Reverse(items).ToList());
            case "sort": return Sort(items, a);
            case "unique": return Unique(items);
            case "selectattr" or "rejectattr": return SelectAttr(items, a, name == "selectattr");
            case "select" or "reject": return Select(items, a, name == "select");
            case "map": return Map(items, a);
            default: return null;
        }
    }

    /// <summary><c>sort(reverse=false, case_sensitive=false, attribute=none)</c>, stable.</summary>
    private static JinjaValue Sort(List<JinjaValue> items, JinjaArguments a)
    {
        bool reverse = DictMethods.Flag(a.Get(0, "reverse"), "reverse");
        bool caseSensitive = DictMethods.Flag(a.Get(1, "case_sensitive"), "case_sensitive");
        var attribute = a.Get(2, "attribute") ?? JinjaValue.None;
        if (!(attribute.IsNone || attribute.Kind is JinjaValueKind.String or JinjaValueKind.Int))
            throw new JinjaError("sort: attribute must be a string, an integer or none");
        JinjaValue Key(JinjaValue x) => attribute.IsNone ? x : AttributePath(x, ValueText.Concat(attribute));
        var sorted = items.Order(Comparer<JinjaValue>.Create((x, y) =>
        {
            int c = ValueEquality.Compare(Key(x), Key(y), caseSensitive);
            return reverse ? -c : c;
        })).ToList();
        return JinjaValue.FromList(sorted);
    }

    /// <summary>The first of each group of strictly equal items, in order.</summary>
    private static JinjaValue Unique(List<JinjaValue> items)
    {
        var result = new List<JinjaValue>();
        foreach (var item in items)
            if (!result.Any(r => ValueEquality.StrictEquals(r, item)))
                result.Add(item);
        return JinjaValue.FromList(result);
    }

    /// <summary>
    /// <c>selectattr(attr[, test[, value]])</c>: items (dicts) whose attribute passes the test (truthiness
    /// without one). As in @huggingface/jinja, an item lacking the attribute never passes, whatever the test.
    /// </summary>
    private static JinjaValue SelectAttr(List<JinjaValue> items, JinjaArguments a, bool select)
    {
        if (items.Any(i => i.Kind is not (JinjaValueKind.Dict or JinjaValueKind.Namespace)))
            throw new JinjaError($"{(select ? "selectattr" : "rejectattr")} can only be applied to a list of dicts");
        if (a.Positional.Count == 0 || a.Positional[0].Kind != JinjaValueKind.String)
            throw new JinjaError("selectattr/rejectattr needs an attribute name");
        string attr = a.Positional[0].AsString;
        string? test = a.Positional.Count > 1 ? ValueText.Concat(a.Positional[1]) : null;
        var testArgs = a.Positional.Skip(2).ToList();
        var result = new List<JinjaValue>();
        foreach (var item in items)
        {
            bool pass = item.AsDict.TryGetValue(attr, out var value)
                && (test is null ? value.IsTruthy : BuiltinTests.Run(test, value, testArgs));
            if (pass == select)
                result.Add(item);
        }
        return JinjaValue.FromList(result);
    }

    /// <summary><c>select(test, args...)</c> / <c>reject</c>: Python Jinja (truthiness without a test).</summary>
    private static JinjaValue Select(List<JinjaValue> items, JinjaArguments a, bool select)
    {
        string? test = a.Positional.Count > 0 ? ValueText.Concat(a.Positional[0]) : null;
        var testArgs = a.Positional.Skip(1).ToList();
        return JinjaValue.FromList(items.Where(i => (test is null ? i.IsTruthy : BuiltinTests.Run(test, i, testArgs)) == select).ToList());
    }

    /// <summary><c>map(attribute='a.b', default=...)</c> or <c>map('filter', args...)</c>.</summary>
    private static JinjaValue Map(List<JinjaValue> items, JinjaArguments a)
    {
        if (a.Keywords.TryGetValue("attribute", out var attr))
        {
            if (attr.Kind != JinjaValueKind.String)
                throw new JinjaError("map: attribute must be a string");
            bool hasDefault = a.Keywords.TryGetValue("default", out var fallback);
            return JinjaValue.FromList(items.Select(i =>
            {
                if (i.Kind is not (JinjaValueKind.Dict or JinjaValueKind.Namespace))
                    throw new JinjaError("map(attribute=...) needs a list of dicts");
                var v = AttributePath(i, attr.AsString);
                return v.IsUndefined && hasDefault ? fallback : v;
            }).ToList());
        }
        if (a.Positional.Count == 0 || a.Positional[0].Kind != JinjaValueKind.String)
            throw new JinjaError("map needs a filter name or attribute=...");
        string filter = a.Positional[0].AsString;
        var rest = new JinjaArguments(a.Positional.Skip(1).ToList(), a.Keywords, null, a.Position);
        return JinjaValue.FromList(items.Select(i => Apply(filter, i, rest)).ToList());
    }
}
