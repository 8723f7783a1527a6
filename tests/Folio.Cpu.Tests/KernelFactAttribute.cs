using Folio.Cpu;
using Folio.Cpu.Weights;

namespace Folio.Cpu.Tests;

/// <summary>A kernel that runs only on some CPUs (AVX-512), for <see cref="KernelFactAttribute"/>.</summary>
public enum CpuKernel
{
    /// <summary>The one-pass attention kernel (<see cref="OnlineSoftmaxAttention"/>).</summary>
    OnePassAttention,
    /// <summary>The 512-bit exp (<see cref="FastExp"/>).</summary>
    FastExp,
    /// <summary>The exponent-coded bf16 weights (<see cref="CodedBf16Weight"/>).</summary>
    CodedBf16,
}

/// <summary>
/// A test of one kernel alone that runs only where the CPU can run it: skipped, never passed, on a CPU without it (or
/// with AVX-512 turned off, as scripts/test-suites/cpu-256bit.sh does). Tests that check the portable path on every CPU
/// and the kernel beside it where it runs stay plain facts.
/// </summary>
public sealed class KernelFactAttribute : FactAttribute
{
    public KernelFactAttribute(CpuKernel kernel) => Skip = KernelSkip.Reason(kernel);
}

/// <summary>The theory form of <see cref="KernelFactAttribute"/>.</summary>
public sealed class KernelTheoryAttribute : TheoryAttribute
{
    public KernelTheoryAttribute(CpuKernel kernel) => Skip = KernelSkip.Reason(kernel);
}

internal static class KernelSkip
{
    /// <summary>Null where the kernel runs here, else why the test is skipped.</summary>
    public static string? Reason(CpuKernel kernel)
    {
        bool runs = kernel switch
        {
            CpuKernel.OnePassAttention => OnlineSoftmaxAttention.Supports(16),
            CpuKernel.FastExp => FastExp.IsSupported,
            CpuKernel.CodedBf16 => CodedBf16Weight.IsSupported,
            _ => throw new ArgumentOutOfRangeException(nameof(kernel)),
        };
        return runs ? null : $"{kernel} needs AVX-512, which this run does not have";
    }
}
