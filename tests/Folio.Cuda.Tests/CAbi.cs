namespace Folio.Cuda.Tests;

/// <summary>
/// One C ABI in canonical form, read from folio_cuda.h (<see cref="HeaderModel"/>) or from the C# bindings
/// (<see cref="BindingModel"/>). Types: i32 u32 i64 u64 f32 f64 void char, ptr(T), and struct names.
/// </summary>
internal sealed class CAbi
{
    public Dictionary<string, (string Return, List<string> Parameters)> Functions { get; } = [];
    public Dictionary<string, Dictionary<string, long>> Enums { get; } = [];
    public Dictionary<string, List<(string Name, string Type)>> Structs { get; } = [];
    public Dictionary<string, (int Size, List<int> Offsets)> Layouts { get; } = [];
    public Dictionary<string, long> Macros { get; } = [];

    /// <summary>Every difference between the header's ABI and this one, named ("function folio_x: ...").</summary>
    public static List<string> Diff(CAbi header, CAbi other)
    {
        var problems = new List<string>();
        Compare(header.Functions, other.Functions, "function", f => $"{f.Return}({string.Join(", ", f.Parameters)})", problems);
        Compare(header.Enums, other.Enums, "enum",
            e => string.Join(", ", e.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")), problems);
        Compare(header.Structs, other.Structs, "struct", s => string.Join(", ", s.Select(f => $"{f.Type} {f.Name}")), problems);
        Compare(header.Layouts, other.Layouts, "struct layout", l => $"{l.Size} bytes at [{string.Join(", ", l.Offsets)}]", problems);
        Compare(header.Macros, other.Macros, "constant", m => m.ToString(System.Globalization.CultureInfo.InvariantCulture), problems);
        return problems;
    }

    private static void Compare<T>(Dictionary<string, T> expected, Dictionary<string, T> actual, string what,
        Func<T, string> show, List<string> problems)
    {
        foreach (string name in expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal))
        {
            if (!actual.TryGetValue(name, out T? a))
                problems.Add($"{what} {name} is in folio_cuda.h but not in the bindings");
            else if (!expected.TryGetValue(name, out T? e))
                problems.Add($"{what} {name} is in the bindings but not in folio_cuda.h");
            else if (show(e) != show(a))
                problems.Add($"{what} {name}: folio_cuda.h has {show(e)}, the bindings have {show(a)}");
        }
    }

    /// <summary>C's natural layout of a struct of these canonical field types (x86-64 / aarch64 Linux).</summary>
    public static (int Size, List<int> Offsets) NaturalLayout(IEnumerable<string> fieldTypes)
    {
        int offset = 0, maxAlign = 1;
        var offsets = new List<int>();
        foreach (string type in fieldTypes)
        {
            int size = SizeOf(type);
            offset = (offset + size - 1) / size * size;
            offsets.Add(offset);
            offset += size;
            maxAlign = Math.Max(maxAlign, size);
        }
        return ((offset + maxAlign - 1) / maxAlign * maxAlign, offsets);
    }

    private static int SizeOf(string type) => type switch
    {
        "i32" or "u32" or "f32" => 4,
        "i64" or "u64" or "f64" => 8,
        _ when type.StartsWith("ptr(", StringComparison.Ordinal) => 8,
        _ => throw new InvalidOperationException($"no size for field type {type} (nested structs are not used in folio_cuda.h)"),
    };
}
