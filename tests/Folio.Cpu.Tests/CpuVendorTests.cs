using System.Runtime.Intrinsics.X86;
using Xunit;

namespace Folio.Cpu.Tests;

public class CpuVendorTests
{
    [Fact]
    public void TheVendorIsCpuidsTwelveCharactersOnX86AndEmptyElsewhere()
    {
        if (X86Base.IsSupported)
        {
            Assert.Equal(12, CpuVendor.Name.Length);
            Assert.All(CpuVendor.Name, c => Assert.InRange(c, ' ', '~'));
            Assert.Equal(CpuVendor.Name == "AuthenticAMD", CpuVendor.IsAmd);
        }
        else
        {
            Assert.Equal("", CpuVendor.Name);
            Assert.False(CpuVendor.IsAmd);
        }
    }
}
