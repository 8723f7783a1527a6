using System.Runtime.InteropServices;
using System.Text;

namespace Folio.Interop.Runtime;

/// <summary>
/// folio_last_error(): one NUL-terminated UTF-8 message per thread, in native memory so the pointer handed to
/// C stays valid until the next folio_ call on that thread replaces it. The buffer belongs to a thread-static
/// object whose finalizer frees it once the thread has ended, so host threads that come and go leak nothing.
/// </summary>
public static unsafe class LastError
{
    private sealed class Buffer
    {
        public byte* Message;
        public int Capacity;

        ~Buffer() => NativeMemory.Free(Message);
    }

    [ThreadStatic] private static Buffer? t_buffer;

    private static readonly byte* Empty = NativeStrings.Intern("");

    public static byte* Current => t_buffer is { Message: not null } b ? b.Message : Empty;

    public static void Clear()
    {
        if (t_buffer is { Message: not null } b) b.Message[0] = 0;
    }

    public static void Set(string message)
    {
        Buffer b = t_buffer ??= new Buffer();
        int bytes = Encoding.UTF8.GetByteCount(message);
        if (bytes + 1 > b.Capacity)
        {
            // Grow in place; the old pointer may be freed because C may only use it until its next call.
            int capacity = Math.Max(256, bytes + 1);
            b.Message = (byte*)NativeMemory.Realloc(b.Message, (nuint)capacity);
            b.Capacity = capacity;
        }
        fixed (char* chars = message)
        {
            Encoding.UTF8.GetBytes(chars, message.Length, b.Message, bytes);
        }
        b.Message[bytes] = 0;
    }
}
