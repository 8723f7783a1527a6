using System.Buffers;
using System.Text;
using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>UTF-8 (pointer, length) arguments to strings, refusing invalid UTF-8 with the offending offset.</summary>
public static unsafe class Utf8Text
{
    // A string argument longer than this is a corrupted length, not text.
    private const ulong MaxBytes = int.MaxValue / 4;

    public static int Decode(byte* text, ulong length, string function, string name, out string value)
    {
        value = "";
        if (text == null) return Guard.Fail(FolioStatus.InvalidArgument, $"{function}: {name} is NULL");
        if (length > MaxBytes)
        {
            return Guard.Fail(FolioStatus.InvalidArgument,
                $"{function}: {name}'s length {length} is above {MaxBytes} bytes");
        }
        var bytes = new ReadOnlySpan<byte>(text, (int)length);
        int offset = 0;
        while (offset < bytes.Length)
        {
            OperationStatus status = Rune.DecodeFromUtf8(bytes[offset..], out _, out int consumed);
            if (status != OperationStatus.Done)
            {
                return Guard.Fail(FolioStatus.InvalidUtf8,
                    $"{function}: {name} is not valid UTF-8 (byte 0x{bytes[offset]:X2} at offset {offset})");
            }
            offset += consumed;
        }
        value = Encoding.UTF8.GetString(bytes);
        return 0;
    }
}
