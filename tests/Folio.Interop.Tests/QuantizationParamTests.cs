using Folio.Interop.Abi;
using Folio.Interop.Hosts;
using Folio.Interop.Runtime;

namespace Folio.Interop.Tests;

/// <summary>folio_engine_params.quantization: checked, and passed to the CPU model.</summary>
public sealed unsafe class QuantizationParamTests
{
    private static string LastMessage() =>
        System.Text.Encoding.UTF8.GetString(new ReadOnlySpan<byte>(LastError.Current, 300)).Split('\0')[0];

    [Fact]
    public void An_unknown_quantization_is_invalid_and_named()
    {
        var p = Defaults.EngineParams();
        Assert.Equal((int)FolioQuantization.None, p.Quantization);
        p.Quantization = 7;
        Assert.Equal((int)FolioStatus.InvalidArgument, EngineFactory.Create(p, out _));
        Assert.Contains("params->quantization is 7; expected FOLIO_QUANTIZATION_NONE (0), FOLIO_QUANTIZATION_INT8 (1) or FOLIO_QUANTIZATION_INT4 (2)", LastMessage());
    }

    [Theory]
    [InlineData(FolioQuantization.Int8)]
    [InlineData(FolioQuantization.Int4)]
    public void Quantized_weights_load_the_builtin_model(FolioQuantization quantization)
    {
        var p = Defaults.EngineParams();
        p.Quantization = (int)quantization;
        p.NumThreads = 1;
        Assert.Equal(0, EngineFactory.Create(p, out EngineHost host));
        Assert.False(host.IsDisposed);
        host.Dispose();
    }
}
