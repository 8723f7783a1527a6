using System.Runtime.InteropServices;
using System.Text;

namespace Folio.Interop.Runtime;

/// <summary>
/// folio_last_error(): one NUL-terminated UTF-8 message per thread, in native memory so the pointer handed to
/// C stays valid until the next folio_ call on that thread replaces it.
/// </summary>
public static unsafe class LastError
{
    [ThreadStatic] private static byte* t_message;
    [ThreadStatic] private static int t_capacity;

    private static readonly byte* Empty = NativeStrings.Intern("");

    public static byte* Current => t_message != null ? t_message : Empty;

    public static void Clear()
    {
        if (t_message != null) t_message[0] = 0;
    }

    public static void Set(string message)
    {
        int bytes = Encoding.UTF8.GetByteCount(message);
        if (bytes + 1 > t_capacity)
        {
            // Grow in place; the old pointer may be freed because C may only use it until its next call.
            int capacity = Math.Max(256, bytes + 1);
            t_message = (byte*)NativeMemory.Realloc(t_message, (nuint)capacity);
            t_capacity = capacity;
        }
        fixed (char* chars = message)
        {
            Encoding.UTF8.GetBytes(chars, message.Length, t_message, bytes);
        }
        t_message[bytes] = 0;
    }
}
