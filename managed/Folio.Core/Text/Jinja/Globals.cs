using System.Globalization;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// The functions every template sees: <c>range</c>, <c>namespace</c>, <c>raise_exception</c> (transformers'
/// way for a template to reject a conversation) and <c>strftime_now</c> (local time, as transformers).
/// </summary>
internal static class Globals
{
    public static void Install(Scope scope, Func<DateTime> now)
    {
        scope.Set("range", JinjaValue.FromFunction("range", Range));
        scope.Set("namespace", JinjaValue.FromFunction("namespace", Namespace));
        scope.Set("raise_exception", JinjaValue.FromFunction("raise_exception", a =>
            throw new TemplateException(a.Positional.Count > 0 ? ValueText.Output(a.Positional[0]) : "raise_exception() called", a.Position)
            {
                RaisedByTemplate = true,
            }));
        scope.Set("strftime_now", JinjaValue.FromFunction("strftime_now", a =>
            JinjaValue.FromString(Strftime(now(), a.Positional.Count > 0 ? ValueText.Concat(a.Positional[0]) : ""))));
    }

    private static JinjaValue Range(JinjaArguments a)
    {
        var p = a.Positional;
        if (p.Count is 0 or > 3 || p.Any(x => x.Kind != JinjaValueKind.Int))
            throw new JinjaError("range() takes one to three integers");
        long start = p.Count == 1 ? 0 : p[0].AsInt;
        long stop = p.Count == 1 ? p[0].AsInt : p[1].AsInt;
        long step = p.Count == 3 ? p[2].AsInt : 1;
        if (step == 0)
            throw new JinjaError("range() step must not be zero");
        var result = new List<JinjaValue>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= 1_000_000)
                throw new JinjaError("range() is too long");
            result.Add(JinjaValue.FromInt(i));
        }
        return JinjaValue.FromList(result);
    }

    /// <summary><c>namespace(dict?, key=value...)</c>: a fresh object whose attributes <c>set ns.x = ...</c> may change.</summary>
    private static JinjaValue Namespace(JinjaArguments a)
    {
        if (a.Positional.Count > 1)
            throw new JinjaError($"namespace() takes at most one positional argument, got {a.Positional.Count}");
        var attrs = new JinjaDict();
        if (a.Positional.Count == 1)
        {
            var source = a.Positional[0];
            if (source.Kind != JinjaValueKind.Dict)
                throw new JinjaError($"namespace() expects a dict, got {source.TypeName}");
            foreach (var (k, v) in source.AsDict.Entries)
                attrs.Set(k, v);
        }
        foreach (var (k, v) in a.Keywords.Entries)
            attrs.Set(k, v);
        return JinjaValue.FromNamespace(attrs);
    }

    /// <summary>The directives templates use: %Y %m %d %b %B %H %M %% (English month names).</summary>
    private static string Strftime(DateTime t, string format)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            char d = format[++i];
            sb.Append(d switch
            {
                'Y' => t.Year.ToString(CultureInfo.InvariantCulture),
                'm' => t.Month.ToString("00", CultureInfo.InvariantCulture),
                'd' => t.Day.ToString("00", CultureInfo.InvariantCulture),
                'b' => t.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => t.ToString("MMMM", CultureInfo.InvariantCulture),
                'H' => t.Hour.ToString("00", CultureInfo.InvariantCulture),
                'M' => t.Minute.ToString("00", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + d,
            });
        }
        return sb.ToString();
    }
}
