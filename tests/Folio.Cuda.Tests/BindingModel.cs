using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Folio.Cuda.Native;

namespace Folio.Cuda.Tests;

/// <summary>
/// Reads the C# bindings (Folio.Cuda.Native) into a <see cref="CAbi"/> by reflection: every [LibraryImport]
/// method of FolioCudaNative by its entry point, every FolioCuda* enum and struct by its snake-case C name,
/// struct layouts as the runtime lays them out, and the constants of FolioCudaVersion and FolioCudaLimits.
/// </summary>
internal static class BindingModel
{
    public static CAbi Read()
    {
        var abi = new CAbi();
        Assembly assembly = typeof(FolioCudaStatus).Assembly;
        var native = assembly.GetType("Folio.Cuda.Native.FolioCudaNative", throwOnError: true)!;
        foreach (MethodInfo method in native.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
        {
            var import = method.GetCustomAttribute<LibraryImportAttribute>();
            if (import is null)
                continue;
            string entry = import.EntryPoint ?? method.Name;
            abi.Functions[entry] = (Canonical(method.ReturnType), method.GetParameters().Select(p => Canonical(p.ParameterType)).ToList());
        }
        foreach (Type type in assembly.GetTypes().Where(t => t.Namespace == "Folio.Cuda.Native" && t.Name.StartsWith("FolioCuda", StringComparison.Ordinal)))
        {
            string cName = Snake(type.Name);
            if (type.IsEnum)
            {
                string prefix = cName.ToUpperInvariant() + "_";
                abi.Enums[cName] = Enum.GetNames(type).ToDictionary(n => prefix + Snake(n).ToUpperInvariant(),
                    n => Convert.ToInt64(Enum.Parse(type, n), System.Globalization.CultureInfo.InvariantCulture));
            }
            else if (type.IsValueType)
            {
                var fields = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                    .OrderBy(f => (long)Marshal.OffsetOf(type, f.Name)).ToList();
                abi.Structs[cName] = fields.Select(f => (Snake(f.Name), Canonical(f.FieldType))).ToList();
                abi.Layouts[cName] = (Marshal.SizeOf(type), fields.Select(f => (int)Marshal.OffsetOf(type, f.Name)).ToList());
            }
        }
        foreach (FieldInfo constant in typeof(FolioCudaVersion).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
            abi.Macros["FOLIO_CUDA_VERSION_" + constant.Name.ToUpperInvariant()] = Convert.ToInt64(constant.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
        foreach (FieldInfo constant in typeof(FolioCudaLimits).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
            abi.Macros["FOLIO_CUDA_" + Snake(constant.Name).ToUpperInvariant()] = Convert.ToInt64(constant.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
        return abi;
    }

    /// <summary>A C# binding type in the header's canonical form.</summary>
    public static string Canonical(Type type)
    {
        if (type.IsPointer)
            return $"ptr({Canonical(type.GetElementType()!)})";
        if (type == typeof(int)) return "i32";
        if (type == typeof(uint)) return "u32";
        if (type == typeof(long)) return "i64";
        if (type == typeof(ulong) || type == typeof(nuint)) return "u64";
        if (type == typeof(float)) return "f32";
        if (type == typeof(double)) return "f64";
        if (type == typeof(void)) return "void";
        if (type == typeof(byte)) return "char";
        if (type.IsValueType && !type.IsPrimitive && !type.IsEnum && type.Name.StartsWith("FolioCuda", StringComparison.Ordinal))
            return Snake(type.Name);
        // nint, bool, enums, managed types: not how the header's types are mirrored.
        return $"unmapped:{type.Name}";
    }

    /// <summary>PascalCase → snake_case: FolioCudaPagedKv → folio_cuda_paged_kv, KCache → k_cache, F16 → f16.</summary>
    public static string Snake(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool boundary = i > 0 && char.IsUpper(c) &&
                            (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) ||
                             (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
            if (boundary)
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
