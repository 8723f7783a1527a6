namespace Folio.Core.Text.Jinja;

/// <summary>The methods of a dict: <c>get(key, default=none)</c>, <c>items()</c>, <c>keys()</c>, <c>values()</c>, <c>dictsort()</c>.</summary>
internal static class DictMethods
{
    public static JinjaValue Get(JinjaValue dict, string name) => name switch
    {
        "get" => JinjaValue.FromFunction("get", a =>
        {
            var key = a.Get(0, "key") ?? JinjaValue.Undefined;
            if (key.Kind != JinjaValueKind.String)
                throw new JinjaError($"dict.get: the key must be a string, found {key.TypeName}");
            return dict.AsDict.TryGetValue(key.AsString, out var v) ? v : a.Positional.Count > 1 ? a.Positional[1] : JinjaValue.None;
        }),
        "items" => JinjaValue.FromFunction("items", _ => Items(dict)),
        "keys" => JinjaValue.FromFunction("keys", _ => JinjaValue.FromList(dict.AsDict.Entries.Select(e => JinjaValue.FromString(e.Key)).ToList())),
        "values" => JinjaValue.FromFunction("values", _ => JinjaValue.FromList(dict.AsDict.Entries.Select(e => e.Value).ToList())),
        "dictsort" => JinjaValue.FromFunction("dictsort", a => DictSort(dict, a)),
        _ => JinjaValue.Undefined,
    };

    /// <summary>The (key, value) pairs in insertion order.</summary>
    public static JinjaValue Items(JinjaValue dict) =>
        JinjaValue.FromList(dict.AsDict.Entries.Select(e => JinjaValue.FromList([JinjaValue.FromString(e.Key), e.Value])).ToList());

    /// <summary><c>dictsort(case_sensitive=false, by='key', reverse=false)</c>: the pairs sorted (stable).</summary>
    public static JinjaValue DictSort(JinjaValue dict, JinjaArguments a)
    {
        bool caseSensitive = Flag(a.Get(0, "case_sensitive"), "case_sensitive");
        var by = a.Get(1, "by") ?? JinjaValue.FromString("key");
        if (by.Kind != JinjaValueKind.String || by.AsString is not ("key" or "value"))
            throw new JinjaError("dictsort: 'by' must be 'key' or 'value'");
        bool reverse = Flag(a.Get(2, "reverse"), "reverse");
        int index = by.AsString == "key" ? 0 : 1;
        var pairs = Items(dict).AsList;
        var sorted = pairs.Order(Comparer<JinjaValue>.Create((x, y) =>
        {
            int c = ValueEquality.Compare(x.AsList[index], y.AsList[index], caseSensitive);
            return reverse ? -c : c;
        })).ToList();
        return JinjaValue.FromList(sorted);
    }

    public static bool Flag(JinjaValue? v, string name)
    {
        if (v is null)
            return false;
        if (v.Kind != JinjaValueKind.Bool)
            throw new JinjaError($"'{name}' must be a boolean");
        return v.AsBool;
    }
}
