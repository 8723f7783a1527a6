using System.Runtime.InteropServices;

namespace Folio.Cpu.Emit;

/// <summary>
/// Machine code made executable: mapped writable, copied in, then switched to read + execute (never writable and
/// executable at once). Linux x64 only (mmap / mprotect); <see cref="TryCreate"/> answers null where that is not
/// available or refused (a hardened kernel policy), and the callers keep their managed kernels. The pages live as long as
/// the process (kernels are built once per process and shape of code, a few KiB each), so there is nothing to free
/// while a function pointer to them may still be in use.
/// </summary>
internal sealed unsafe partial class ExecutableCode
{
    private ExecutableCode(nint address) => Address = address;

    /// <summary>The first instruction's address.</summary>
    public nint Address { get; }

    /// <summary>Whether emitted code can run here at all: Linux on x64.</summary>
    public static bool Supported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public static ExecutableCode? TryCreate(ReadOnlySpan<byte> code)
    {
        if (!Supported || code.IsEmpty)
            return null;
        nuint size = (nuint)((code.Length + 4095) & ~4095);
        nint p = Mmap(0, size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (p == -1 || p == 0)
            return null;
        code.CopyTo(new Span<byte>((void*)p, code.Length));
        if (Mprotect(p, size, ProtRead | ProtExec) != 0)
        {
            Munmap(p, size);
            return null;
        }
        return new ExecutableCode(p);
    }

    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(nint address, nuint length, int prot);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);
}
