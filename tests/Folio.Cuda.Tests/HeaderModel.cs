using System.Globalization;
using System.Text.RegularExpressions;

namespace Folio.Cuda.Tests;

/// <summary>
/// Reads folio_cuda.h into a <see cref="CAbi"/>: the subset of C the header uses (typedef'd enums and structs of
/// fixed-width fields, FOLIO_CUDA_API function declarations, integer #defines). Anything else the parser meets
/// in a declaration (an array field, an unknown type) fails the read, so the header cannot outgrow the check.
/// </summary>
internal static partial class HeaderModel
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string HeaderPath => Path.Combine(RepositoryRoot, "native", "include", "folio_cuda.h");

    public static CAbi Read() => Parse(ReadText(HeaderPath));

    /// <summary>
    /// The text of a public header with the parts it includes from its own directory (<c>#include "folio_cuda_*.h"</c>)
    /// put in place of their #include lines: one header is one specification, split into files a reader can take in.
    /// </summary>
    public static string ReadText(string path)
    {
        string dir = Path.GetDirectoryName(path)!;
        return LocalInclude().Replace(File.ReadAllText(path), m =>
        {
            string part = Path.Combine(dir, m.Groups[1].Value);
            return File.Exists(part) ? ReadText(part) : m.Value;
        });
    }

    /// <summary><see cref="ReadText(string)"/> of folio_cuda.h.</summary>
    public static string ReadText() => ReadText(HeaderPath);

    public static CAbi Parse(string text)
    {
        text = Comments().Replace(text, " ");
        var abi = new CAbi();
        foreach (Match m in Define().Matches(text))
            abi.Macros[m.Groups[1].Value] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        text = Preprocessor().Replace(text, " ");
        foreach (Match m in EnumDecl().Matches(text))
        {
            var values = new Dictionary<string, long>();
            foreach (string entry in m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] parts = entry.Split('=', StringSplitOptions.TrimEntries);
                if (parts.Length != 2)
                    throw new FormatException($"enum {m.Groups[1].Value}: entry '{entry}' has no explicit value");
                values[parts[0]] = long.Parse(parts[1], CultureInfo.InvariantCulture);
            }
            abi.Enums[m.Groups[1].Value] = values;
        }
        var enumNames = abi.Enums.Keys.ToHashSet();
        foreach (Match m in StructDecl().Matches(text))
        {
            string name = m.Groups[1].Value;
            var fields = new List<(string, string)>();
            foreach (string decl in m.Groups[2].Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var (type, field) = SplitDeclaration(decl, name);
                fields.Add((field, Canonical(type, name, enumNames)));
            }
            abi.Structs[name] = fields;
            abi.Layouts[name] = CAbi.NaturalLayout(fields.Select(f => f.Item2));
        }
        foreach (Match m in FunctionDecl().Matches(text))
        {
            string name = m.Groups["name"].Value;
            string args = m.Groups["args"].Value.Trim();
            var parameters = args == "void" || args.Length == 0
                ? []
                : args.Split(',').Select(a => Canonical(SplitDeclaration(a.Trim(), name).Type, name, enumNames)).ToList();
            abi.Functions[name] = (Canonical(m.Groups["ret"].Value, name, enumNames), parameters);
        }
        return abi;
    }

    /// <summary>"const int32_t* block_tables" → ("const int32_t*", "block_tables").</summary>
    private static (string Type, string Name) SplitDeclaration(string decl, string where)
    {
        if (decl.Contains('[', StringComparison.Ordinal))
            throw new FormatException($"{where}: '{decl}': arrays are not part of the header's C subset");
        Match m = Declaration().Match(decl);
        if (!m.Success)
            throw new FormatException($"{where}: cannot read the declaration '{decl}'");
        return (m.Groups[1].Value, m.Groups[2].Value);
    }

    /// <summary>A C type in canonical form: const dropped, one ptr() per star.</summary>
    public static string Canonical(string cType, string where, IReadOnlySet<string> enums)
    {
        string t = cType.Replace("const", " ", StringComparison.Ordinal).Trim();
        int stars = t.Count(c => c == '*');
        string baseType = t.Replace("*", " ", StringComparison.Ordinal).Trim();
        baseType = WhiteSpace().Replace(baseType, " ");
        string canonical = baseType switch
        {
            "int32_t" => "i32",
            "uint32_t" => "u32",
            "int64_t" => "i64",
            "uint64_t" or "size_t" => "u64",
            "float" => "f32",
            "double" => "f64",
            "void" => "void",
            "char" => "char",
            _ when baseType.StartsWith("folio_cuda_", StringComparison.Ordinal) && !enums.Contains(baseType) => baseType,
            _ => throw new FormatException($"{where}: type '{cType}' is outside the header's C subset " +
                                           "(fixed-width integers, float, void, char, folio_cuda_* structs; enums travel as int32_t)"),
        };
        for (int i = 0; i < stars; i++)
            canonical = $"ptr({canonical})";
        return canonical;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "native", "include", "folio_cuda.h")))
                return dir.FullName;
        throw new DirectoryNotFoundException("no native/include/folio_cuda.h above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^#include ""([^""]+)""[^\n]*$", RegexOptions.Multiline)]
    private static partial Regex LocalInclude();

    [GeneratedRegex(@"/\*.*?\*/|//[^\n]*", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"^\s*#\s*define\s+(FOLIO_CUDA_\w+)\s+(-?\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Define();

    [GeneratedRegex(@"^\s*#[^\n]*(\\\n[^\n]*)*", RegexOptions.Multiline)]
    private static partial Regex Preprocessor();

    [GeneratedRegex(@"typedef\s+enum\s+(\w+)\s*\{([^}]*)\}\s*\w+\s*;")]
    private static partial Regex EnumDecl();

    [GeneratedRegex(@"typedef\s+struct\s+(\w+)\s*\{([^}]*)\}\s*\w+\s*;")]
    private static partial Regex StructDecl();

    [GeneratedRegex(@"FOLIO_CUDA_API\s+(?<ret>[\w\s\*]+?)\s*\b(?<name>folio_\w+)\s*\((?<args>[^)]*)\)\s*;")]
    private static partial Regex FunctionDecl();

    [GeneratedRegex(@"^([\w\s\*]*?[\w\*])\s*\b(\w+)$")]
    private static partial Regex Declaration();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
