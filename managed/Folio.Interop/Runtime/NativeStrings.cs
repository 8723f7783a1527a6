using System.Runtime.InteropServices;
using System.Text;

namespace Folio.Interop.Runtime;

/// <summary>NUL-terminated UTF-8 copies in native memory that live as long as the process (constant strings).</summary>
public static unsafe class NativeStrings
{
    public static byte* Intern(string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        byte* p = (byte*)NativeMemory.Alloc((nuint)utf8.Length + 1);
        utf8.CopyTo(new Span<byte>(p, utf8.Length));
        p[utf8.Length] = 0;
        return p;
    }
}
