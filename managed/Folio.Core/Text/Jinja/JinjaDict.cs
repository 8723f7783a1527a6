namespace Folio.Core.Text.Jinja;

/// <summary>
/// A string-keyed mapping that keeps insertion order, as Python's dict (and JSON objects read in order) do:
/// templates iterate <c>tool.parameters.properties</c> and <c>tojson</c> writes keys in that order.
/// Setting an existing key replaces the value in place.
/// </summary>
public sealed class JinjaDict
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, JinjaValue>> _entries = [];

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<string, JinjaValue>> Entries => _entries;

    public bool ContainsKey(string key) => _index.ContainsKey(key);

    public bool TryGetValue(string key, out JinjaValue value)
    {
        if (_index.TryGetValue(key, out int i))
        {
            value = _entries[i].Value;
            return true;
        }
        value = JinjaValue.Undefined;
        return false;
    }

    public void Set(string key, JinjaValue value)
    {
        if (_index.TryGetValue(key, out int i))
            _entries[i] = new(key, value);
        else
        {
            _index[key] = _entries.Count;
            _entries.Add(new(key, value));
        }
    }

    public JinjaDict Copy()
    {
        var copy = new JinjaDict();
        foreach (var (k, v) in _entries)
            copy.Set(k, v);
        return copy;
    }
}
