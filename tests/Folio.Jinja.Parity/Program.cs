using System.Text;
using System.Text.Json;
using Folio.Core.Text;
using Folio.Core.Text.Jinja;

// Usage: Folio.Jinja.Parity CASES.json REPO_ROOT
// Each case is one test: a hand-written template with its context, or one real model template (loaded with
// ChatTemplate.Load from the npm package's folder) with one generated conversation. A case passes when our
// rendering equals the reference's byte for byte, or when both raise an error. Prints every mismatch with
// the first differing position and ends with "SUITE <passed> <failed> <skipped>" (see test.sh).
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Folio.Jinja.Parity CASES.json REPO_ROOT");
    return 2;
}
using var doc = JsonDocument.Parse(File.ReadAllText(args[0]));
var templates = new Dictionary<string, ChatTemplate?>();
int passed = 0, failed = 0;
var perGroup = new SortedDictionary<string, (int Passed, int Failed)>(StringComparer.Ordinal);
foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
{
    string id = c.GetProperty("id").GetString()!;
    string group = id.StartsWith("template:", StringComparison.Ordinal) ? "hand-written" : id[..id.IndexOf('#')];
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
    var g = perGroup.GetValueOrDefault(group);
    perGroup[group] = ok ? (g.Passed + 1, g.Failed) : (g.Passed, g.Failed + 1);
    if (ok)
    {
        passed++;
        continue;
    }
    failed++;
    Console.WriteLine($"MISMATCH {id}");
    if (expected is null)
        Console.WriteLine($"  reference raised: {referenceError}\n  we rendered: {Show(actual!, 0, 200)}");
    else if (actual is null)
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
foreach (var (group, (p, f)) in perGroup)
    Console.WriteLine($"jinja parity: {group}: {p} passed, {f} failed");
Console.WriteLine($"SUITE {passed} {failed} 0");
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
