using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>
/// Reads and writes the ABI's struct_size-first structs. Too small: the caller's header predates a field
/// this library needs. Larger: a newer header; accepted when every byte this library does not know is zero.
/// </summary>
public static unsafe class StructIo
{
    public static int Read<T>(void* source, string function, string name, string cType, out T value)
        where T : unmanaged
    {
        value = default;
        if (source == null) return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is NULL");
        int status = CheckSize(*(uint*)source, function, name, cType, sizeof(T));
        if (status != 0) return status;
        uint size = *(uint*)source;
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
        value = *(T*)source;
        return 0;
    }

    /// <summary>Checks an out-struct's struct_size before the call does any work.</summary>
    public static int CheckOut<T>(void* destination, string function, string name, string cType) where T : unmanaged
    {
        if (destination == null) return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is NULL");
        return CheckSize(*(uint*)destination, function, name, cType, sizeof(T));
    }

    /// <summary>Writes the fields this library knows, zeroes any newer tail, keeps the caller's struct_size.
    /// Call <see cref="CheckOut{T}"/> first.</summary>
    public static void Write<T>(void* destination, in T value) where T : unmanaged
    {
        uint size = *(uint*)destination;
        *(T*)destination = value;
        new Span<byte>((byte*)destination + sizeof(T), (int)size - sizeof(T)).Clear();
        *(uint*)destination = size;
    }

    private static int CheckSize(uint size, string function, string name, string cType, int known)
    {
        if (size < known)
        {
            return Guard.Fail(FolioStatus.StructSize,
                $"{function}: {name}->struct_size is {size}, but {cType} of ABI {AbiVersion.Major}.{AbiVersion.Minor} " +
                $"is {known} bytes (set struct_size = sizeof({cType}), or call its _init function)");
        }
        if (size > AbiVersion.MaxStructSize)
        {
            return Guard.Fail(FolioStatus.StructSize,
                $"{function}: {name}->struct_size is {size}, above FOLIO_MAX_STRUCT_SIZE ({AbiVersion.MaxStructSize}): " +
                "not a struct_size");
        }
        return 0;
    }
}
