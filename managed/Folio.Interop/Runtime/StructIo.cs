using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>
/// Reads and writes the ABI's struct_size-first structs, never past the caller's struct_size. A size from an
/// older release (<see cref="StructSizes"/>): the fields it lacks take their defaults on input and are not
/// written on output. Larger (a newer header): accepted when every byte this library does not know is zero.
/// Anything else is refused before a byte is read or written.
/// </summary>
public static unsafe class StructIo
{
    /// <summary>Reads an in-struct; fields past the caller's struct_size keep <paramref name="defaults"/>'s values.</summary>
    public static int Read<T>(void* source, string function, string name, string cType, in T defaults, out T value)
        where T : unmanaged
    {
        value = default;
        if (source == null) return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is NULL");
        uint size = *(uint*)source;
        if (!IsAccepted<T>(size, out string problem))
        {
            return Guard.Fail(FolioStatus.StructSize, $"{function}: {name}->struct_size is {size}: {problem} {Hint(cType)}");
        }
        byte* bytes = (byte*)source;
        for (int i = sizeof(T); i < size; i++)
        {
            if (bytes[i] != 0)
            {
                return Guard.Fail(FolioStatus.StructSize,
                    $"{function}: {name} has a non-zero byte at offset {i}, past the {sizeof(T)} bytes of " +
                    $"{cType} in ABI {AbiVersion.Major}.{AbiVersion.Minor}: it sets a newer field this library cannot honour");
            }
        }
        T result = defaults;
        Buffer.MemoryCopy(source, &result, sizeof(T), Math.Min(size, (uint)sizeof(T)));
        value = result;
        return 0;
    }

    /// <summary>Reads an in-struct whose every field is required from ABI 1.0 on (no defaults needed).</summary>
    public static int Read<T>(void* source, string function, string name, string cType, out T value) where T : unmanaged =>
        Read(source, function, name, cType, default(T), out value);

    /// <summary>Checks an out-struct's struct_size before the call does any work.</summary>
    public static int CheckOut<T>(void* destination, string function, string name, string cType) where T : unmanaged
    {
        if (destination == null) return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is NULL");
        uint size = *(uint*)destination;
        return IsAccepted<T>(size, out string problem)
            ? 0
            : Guard.Fail(FolioStatus.StructSize, $"{function}: {name}->struct_size is {size}: {problem} {Hint(cType)}");
    }

    /// <summary>Writes the fields that fit the caller's struct_size, zeroes any newer tail, keeps the caller's
    /// struct_size. Call <see cref="CheckOut{T}"/> first.</summary>
    public static void Write<T>(void* destination, in T value) where T : unmanaged
    {
        uint size = *(uint*)destination;
        T copy = value;
        uint known = Math.Min(size, (uint)sizeof(T));
        Buffer.MemoryCopy(&copy, destination, size, known);
        new Span<byte>((byte*)destination + known, (int)(size - known)).Clear();
        *(uint*)destination = size;
    }

    /// <summary>A folio_*_init function: <paramref name="defaults"/> into the caller's struct, within its struct_size.</summary>
    public static int Init<T>(void* destination, string function, string cType, in T defaults) where T : unmanaged
    {
        if (destination == null) return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: params is NULL");
        uint size = *(uint*)destination;
        if (!IsAccepted<T>(size, out string problem))
        {
            return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: params->struct_size is {size}: {problem} " +
                $"{Hint(cType)} before calling {function}");
        }
        Write(destination, defaults);
        return 0;
    }

    private static bool IsAccepted<T>(uint size, out string problem) where T : unmanaged
    {
        problem = "";
        if (size > AbiVersion.MaxStructSize)
        {
            problem = $"above FOLIO_MAX_STRUCT_SIZE ({AbiVersion.MaxStructSize}), not a struct_size.";
            return false;
        }
        if (size >= (uint)sizeof(T) || Array.IndexOf(StructSizes.Of<T>(), (int)size) >= 0) return true;
        problem = $"no released folio.h has a struct of that size ({StructSizes.Describe<T>()}).";
        return false;
    }

    private static string Hint(string cType) => $"Set struct_size = sizeof({cType})";
}
