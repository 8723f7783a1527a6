namespace Folio.Core.Text.Jinja;

/// <summary>
/// The methods of a string that chat templates call, with @huggingface/jinja's behaviour. Differences from
/// Python: <c>strip</c>/<c>lstrip</c>/<c>rstrip</c> ignore their argument and remove all whitespace
/// (Qwen3's template calls <c>strip('\n')</c>); <c>capitalize</c> leaves the rest of the string as it is;
/// <c>title</c> upper-cases an ASCII letter after a non-word character; <c>length</c> counts UTF-16 units.
/// </summary>
internal static class StringMethods
{
    public static JinjaValue Get(string s, string name) => name switch
    {
        "length" => JinjaValue.FromInt(s.Length),
        "upper" => Fn(name, _ => JsText.ToUpper(s)),
        "lower" => Fn(name, _ => JsText.ToLower(s)),
        "strip" => Fn(name, _ => JsText.Trim(s)),
        "lstrip" => Fn(name, _ => JsText.TrimStart(s)),
        "rstrip" => Fn(name, _ => JsText.TrimEnd(s)),
        "title" => Fn(name, _ => JsText.TitleCase(s)),
        "capitalize" => Fn(name, _ => Capitalize(s)),
        "startswith" => JinjaValue.FromFunction(name, a => JinjaValue.FromBool(Affix(s, a, name, (x, p) => x.StartsWith(p, StringComparison.Ordinal)))),
        "endswith" => JinjaValue.FromFunction(name, a => JinjaValue.FromBool(Affix(s, a, name, (x, p) => x.EndsWith(p, StringComparison.Ordinal)))),
        "split" => JinjaValue.FromFunction(name, a => Split(s, a)),
        // Python-only methods (@huggingface/jinja lacks them): rsplit, find, count. Indices count UTF-16 units.
        "rsplit" => JinjaValue.FromFunction(name, a => RSplit(s, a)),
        "find" => JinjaValue.FromFunction(name, a => JinjaValue.FromInt(s.IndexOf(StringArg(a, name), StringComparison.Ordinal))),
        "count" => JinjaValue.FromFunction(name, a => JinjaValue.FromInt(Count(s, StringArg(a, name)))),
        "replace" => JinjaValue.FromFunction(name, a => JinjaValue.FromString(Replace(s, a))),
        _ => JinjaValue.Undefined,
    };

    private static JinjaValue Fn(string name, Func<JinjaArguments, string> f) =>
        JinjaValue.FromFunction(name, a => JinjaValue.FromString(f(a)));

    public static string Capitalize(string s) => s.Length == 0 ? s : JsText.ToUpper(s[..1]) + s[1..];

    private static bool Affix(string s, JinjaArguments a, string name, Func<string, string, bool> test)
    {
        if (a.Positional.Count == 0)
            throw new JinjaError($"{name}() requires an argument");
        var p = a.Positional[0];
        if (p.Kind == JinjaValueKind.String)
            return test(s, p.AsString);
        if (p.Kind == JinjaValueKind.List)
            return p.AsList.Any(x => x.Kind == JinjaValueKind.String ? test(s, x.AsString) : throw new JinjaError($"{name}() tuple elements must be strings"));
        throw new JinjaError($"{name}() argument must be a string or a tuple of strings");
    }

    /// <summary>Python's <c>str.split(sep=None, maxsplit=-1)</c>.</summary>
    private static JinjaValue Split(string s, JinjaArguments a)
    {
        var sep = a.Get(0, "sep") ?? JinjaValue.None;
        var max = a.Get(1, "maxsplit") ?? JinjaValue.FromInt(-1);
        if (max.Kind != JinjaValueKind.Int)
            throw new JinjaError("split(): maxsplit must be an integer");
        long maxSplit = max.AsInt;
        var parts = new List<string>();
        if (sep.IsNone)
        {
            string text = JsText.TrimStart(s);
            int i = 0;
            while (i < text.Length)
            {
                int start = i;
                while (i < text.Length && !JsText.IsWhiteSpace(text[i]))
                    i++;
                if (maxSplit >= 0 && parts.Count >= maxSplit)
                {
                    parts.Add(text[start..]);
                    break;
                }
                parts.Add(text[start..i]);
                while (i < text.Length && JsText.IsWhiteSpace(text[i]))
                    i++;
            }
        }
        else if (sep.Kind == JinjaValueKind.String)
        {
            if (sep.AsString.Length == 0)
                throw new JinjaError("split(): empty separator");
            parts.AddRange(s.Split(sep.AsString));
            if (maxSplit >= 0 && parts.Count > maxSplit)
            {
                string rest = string.Join(sep.AsString, parts.Skip((int)maxSplit));
                parts.RemoveRange((int)maxSplit, parts.Count - (int)maxSplit);
                parts.Add(rest);
            }
        }
        else
            throw new JinjaError("split(): the separator must be a string or none");
        return JinjaValue.FromList(parts.Select(JinjaValue.FromString).ToList());
    }

    private static string StringArg(JinjaArguments a, string name) =>
        a.Positional.Count > 0 && a.Positional[0].Kind == JinjaValueKind.String ? a.Positional[0].AsString
            : throw new JinjaError($"{name}() needs a string argument");

    private static long Count(string s, string sub)
    {
        if (sub.Length == 0)
            return Slicing.CodePoints(s).Count + 1;
        long n = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal))
            n++;
        return n;
    }

    /// <summary>Python's <c>str.rsplit(sep=None, maxsplit=-1)</c>: as split, but the splits are made from the right.</summary>
    private static JinjaValue RSplit(string s, JinjaArguments a)
    {
        var sep = a.Get(0, "sep") ?? JinjaValue.None;
        var max = a.Get(1, "maxsplit") ?? JinjaValue.FromInt(-1);
        if (max.Kind != JinjaValueKind.Int)
            throw new JinjaError("rsplit(): maxsplit must be an integer");
        var all = Split(s, new JinjaArguments([sep], new JinjaDict(), null, a.Position)).AsList;
        long maxSplit = max.AsInt;
        if (maxSplit < 0 || all.Count <= maxSplit + 1)
            return JinjaValue.FromList(all);
        int keep = (int)maxSplit;
        int headCount = all.Count - keep;
        string head;
        if (sep.IsNone)
        {
            // Whitespace mode: the head keeps its inner whitespace; cut the original text before the last items.
            string trimmed = JsText.TrimEnd(s);
            int end = trimmed.Length;
            for (int k = 0; k < keep; k++)
            {
                end = trimmed.LastIndexOf(all[all.Count - 1 - k].AsString, end - 1, StringComparison.Ordinal);
                while (end > 0 && JsText.IsWhiteSpace(trimmed[end - 1]))
                    end--;
            }
            head = trimmed[..end];
        }
        else
            head = string.Join(sep.AsString, all.Take(headCount).Select(x => x.AsString));
        return JinjaValue.FromList([JinjaValue.FromString(head), .. all.Skip(headCount)]);
    }

    /// <summary><c>replace(old, new, count=none)</c>; an empty <c>old</c> inserts between code points.</summary>
    public static string Replace(string s, JinjaArguments a)
    {
        if (a.Positional.Count < 2 || a.Positional[0].Kind != JinjaValueKind.String || a.Positional[1].Kind != JinjaValueKind.String)
            throw new JinjaError("replace() requires two string arguments");
        string oldValue = a.Positional[0].AsString, newValue = a.Positional[1].AsString;
        var countArg = a.Get(2, "count") ?? JinjaValue.None;
        if (!countArg.IsNone && countArg.Kind != JinjaValueKind.Int)
            throw new JinjaError("replace(): count must be an integer or none");
        long count = countArg.IsNone ? -1 : countArg.AsInt;
        if (count == 0)
            return s;
        long remaining = count < 0 ? long.MaxValue : count;
        var sb = new System.Text.StringBuilder();
        if (oldValue.Length == 0)
        {
            var cps = Slicing.CodePoints(s);
            for (int i = 0; i <= cps.Count; i++)
            {
                if (remaining-- > 0)
                    sb.Append(newValue);
                if (i < cps.Count)
                    sb.Append(cps[i]);
            }
            return sb.ToString();
        }
        int pos = 0;
        while (remaining > 0)
        {
            int hit = s.IndexOf(oldValue, pos, StringComparison.Ordinal);
            if (hit < 0)
                break;
            sb.Append(s, pos, hit - pos).Append(newValue);
            pos = hit + oldValue.Length;
            remaining--;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }
}
