using System.Buffers;
using System.Text;
using Folio.Interop.Abi;

namespace Folio.Interop.Runtime;

/// <summary>UTF-8 (pointer, length) arguments to strings, refusing invalid UTF-8 with the offending offset.</summary>
public static unsafe class Utf8Text
{
    // A string argument longer than this is a corrupted length, not text.
    private const ulong MaxBytes = int.MaxValue / 4;

    /// <summary>
    /// The header's size-query idiom for text out: the UTF-8 length (without the NUL) always goes to
    /// <paramref name="outLen"/>; the text and its NUL are written only when <paramref name="capacity"/> holds both,
    /// else BUFFER_TOO_SMALL says how much is needed.
    /// </summary>
    public static int Write(string text, byte* outText, ulong capacity, ulong* outLen, string function)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        *outLen = (ulong)utf8.Length;
        if (capacity <= (ulong)utf8.Length)
        {
            return Guard.Fail(FolioStatus.BufferTooSmall,
                $"{function}: the text is {utf8.Length} bytes and needs {utf8.Length + 1} with its NUL; capacity is {capacity}");
        }
        utf8.CopyTo(new Span<byte>(outText, utf8.Length));
        outText[utf8.Length] = 0;
        return Guard.Ok();
    }

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
