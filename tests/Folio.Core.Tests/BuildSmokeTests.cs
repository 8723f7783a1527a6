namespace Folio.Core.Tests;

public class BuildSmokeTests
{
    [Fact]
    public void CoreAssemblyTargetsNet10()
    {
        var attr = typeof(Folio.Core.Engine.LlmEngine).Assembly
            .GetCustomAttributes(typeof(System.Runtime.Versioning.TargetFrameworkAttribute), false)
            .Cast<System.Runtime.Versioning.TargetFrameworkAttribute>().Single();
        Assert.Equal(".NETCoreApp,Version=v10.0", attr.FrameworkName);
    }
}
