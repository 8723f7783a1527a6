namespace Folio.Core.Text.Jinja;

/// <summary>
/// <c>obj.name</c> and <c>obj[key]</c>. A dict gives its entry, else one of its methods (get, items, keys,
/// values, dictsort); a list or string takes an integer index (negative counts from the end; out of range is
/// undefined) or a method name; anything missing is undefined (also on none and undefined, where Python
/// Jinja raises: @huggingface/jinja returns undefined, and so do we).
/// </summary>
internal static class Members
{
    public static JinjaValue Get(JinjaValue obj, JinjaValue key)
    {
        switch (obj.Kind)
        {
            case JinjaValueKind.Dict or JinjaValueKind.Namespace:
                if (key.Kind != JinjaValueKind.String)
                    throw new JinjaError($"a {obj.TypeName} key must be a string, found {key.TypeName}");
                if (obj.AsDict.TryGetValue(key.AsString, out var v))
                    return v;
                return obj.Kind == JinjaValueKind.Dict ? DictMethods.Get(obj, key.AsString) : JinjaValue.Undefined;
            case JinjaValueKind.List or JinjaValueKind.String:
                if (key.Kind == JinjaValueKind.Int)
                    return Index(obj, key.AsInt);
                if (key.Kind == JinjaValueKind.String)
                    return obj.Kind == JinjaValueKind.String ? StringMethods.Get(obj.AsString, key.AsString)
                        : key.AsString == "length" ? JinjaValue.FromInt(obj.AsList.Count) : JinjaValue.Undefined;
                throw new JinjaError($"a {obj.TypeName} index must be an integer, found {key.TypeName}");
            default:
                if (key.Kind != JinjaValueKind.String)
                    throw new JinjaError($"cannot index a {obj.TypeName} value with a {key.TypeName}");
                return JinjaValue.Undefined;
        }
    }

    private static JinjaValue Index(JinjaValue obj, long i)
    {
        if (obj.Kind == JinjaValueKind.String)
        {
            string s = obj.AsString;   // UTF-16 units, as JavaScript's String.prototype.at
            long j = i < 0 ? s.Length + i : i;
            return j >= 0 && j < s.Length ? JinjaValue.FromString(s[(int)j].ToString()) : JinjaValue.Undefined;
        }
        var list = obj.AsList;
        long k = i < 0 ? list.Count + i : i;
        return k >= 0 && k < list.Count ? list[(int)k] : JinjaValue.Undefined;
    }
}
