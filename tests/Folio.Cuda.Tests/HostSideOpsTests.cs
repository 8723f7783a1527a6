using Folio.Cuda.Native;

namespace Folio.Cuda.Tests;

/// <summary>The new launchers' host-side parts, which need no GPU: rotary frequencies and parameter-struct checks.</summary>
public sealed unsafe class HostSideOpsTests
{
    private static FolioCudaRopeConfig Llama31(int dim) => new()
    {
        StructSize = (uint)sizeof(FolioCudaRopeConfig), RotaryDim = dim, Theta = 500000f,
        Scaling = (int)FolioCudaRopeScaling.Llama3, Factor = 8f, LowFreqFactor = 1f, HighFreqFactor = 4f,
        OriginalMaxPosition = 8192,
    };

    /// <summary>transformers' formulas, in double (the library computes in fp32: agreement to ~1e-6 relative).</summary>
    private static double[] Reference(FolioCudaRopeConfig c)
    {
        var inv = new double[c.RotaryDim / 2];
        for (int i = 0; i < inv.Length; i++)
        {
            double f = 1.0 / Math.Pow(c.Theta, 2.0 * i / c.RotaryDim);
            if (c.Scaling == (int)FolioCudaRopeScaling.Llama3)
            {
                double lowWave = c.OriginalMaxPosition / (double)c.LowFreqFactor, highWave = c.OriginalMaxPosition / (double)c.HighFreqFactor;
                double wave = 2 * Math.PI / f;
                if (wave > lowWave)
                    f /= c.Factor;
                else if (wave >= highWave)
                {
                    double smooth = (c.OriginalMaxPosition / wave - c.LowFreqFactor) / (c.HighFreqFactor - c.LowFreqFactor);
                    f = (1 - smooth) * f / c.Factor + smooth * f;
                }
            }
            inv[i] = f;
        }
        return inv;
    }

    [CudaLibraryTheory]
    [InlineData(128, 0)]
    [InlineData(128, 1)]
    [InlineData(64, 0)]
    [InlineData(64, 1)]
    public void RopeInverseFrequenciesMatchTransformers(int dim, int scaling)
    {
        var config = Llama31(dim);
        config.Scaling = scaling;
        if (scaling == 0)
            config.Theta = 10000f;
        var got = new float[dim / 2];
        fixed (float* p = got)
            FolioCudaException.Check(FolioCudaNative.RopeInvFreq(&config, p, got.Length));
        double[] want = Reference(config);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= 2e-6 * want[i], $"inv_freq[{i}] = {got[i]}, transformers {want[i]}");
        if (scaling == 1)
        {
            // Llama 3.1's three bands: the high frequencies untouched, the lowest divided by the factor exactly.
            Assert.Equal(1f, got[0]);
            Assert.Equal((float)(want[^1]), got[^1], 6);
        }
    }

    [CudaLibraryFact]
    public void RopeConfigIsValidated()
    {
        var config = Llama31(128);
        var out64 = new float[64];
        fixed (float* p = out64)
        {
            Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.RopeInvFreq(&config, p, 63));
            config.HighFreqFactor = 0.5f;
            Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.RopeInvFreq(&config, p, 64));
            config = Llama31(128);
            config.StructSize = 8;
            Assert.Equal((int)FolioCudaStatus.StructSize, FolioCudaNative.RopeInvFreq(&config, p, 64));
        }
    }

    [CudaLibraryFact]
    public void SampleParamsStructSizeRule()
    {
        // A struct of a newer header is accepted only when its unknown tail is zero.
        byte* buffer = stackalloc byte[sizeof(FolioCudaSampleParams) + 8];
        new Span<byte>(buffer, sizeof(FolioCudaSampleParams) + 8).Clear();
        var p = (FolioCudaSampleParams*)buffer;
        p->StructSize = (uint)sizeof(FolioCudaSampleParams) + 8;
        p->VocabSize = 32000;
        p->Dtype = (int)FolioCudaDtype.F32;
        p->LogitsRowStride = 32000;
        Assert.Equal((int)FolioCudaStatus.Ok, FolioCudaNative.Sample(p, null));   // zero rows: nothing to launch
        buffer[sizeof(FolioCudaSampleParams) + 3] = 1;
        Assert.Equal((int)FolioCudaStatus.StructSize, FolioCudaNative.Sample(p, null));
        p->StructSize = 16;
        Assert.Equal((int)FolioCudaStatus.StructSize, FolioCudaNative.Sample(p, null));
    }

    [CudaLibraryFact]
    public void SampleRefusesBadArguments()
    {
        var p = new FolioCudaSampleParams
        {
            StructSize = (uint)sizeof(FolioCudaSampleParams), NumRows = 2, VocabSize = 32000, Dtype = (int)FolioCudaDtype.Bf16,
            LogitsRowStride = 32000, Logits = (void*)0x1000, Sampled = (int*)0x1000, NumLogprobs = FolioCudaLimits.MaxLogprobs + 1,
        };
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.Sample(&p, null));
        p.NumLogprobs = 0;
        p.LogitsRowStride = 100;
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.Sample(&p, null));
        p.LogitsRowStride = 32000;
        Assert.Equal((int)FolioCudaStatus.WorkspaceTooSmall, FolioCudaNative.Sample(&p, null));
        nuint bytes = 0;
        FolioCudaException.Check(FolioCudaNative.SampleWorkspaceSize(2, 32000, &bytes));
        Assert.Equal((nuint)(2 * 32000 * 8), bytes);
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.SampleWorkspaceSize(2, 1 << 20, &bytes));
    }

    [CudaLibraryFact]
    public void ModelOpsRefuseBadArguments()
    {
        Assert.Equal((int)FolioCudaStatus.InvalidArgument,
            FolioCudaNative.SiluAndMul((void*)0x1000, (void*)0x1000, 4, 100, 150, (int)FolioCudaDtype.Bf16, null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument,
            FolioCudaNative.AddRmsNorm((void*)0x1000, (void*)0x1000, (void*)0x1000, (void*)0x2000, 4, 64, 1e-5f, (int)FolioCudaDtype.F32, null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument,
            FolioCudaNative.EmbeddingGather(null, null, null, 3, 100, 64, 3, null));
        // A token stride shorter than its heads, a head past 1024 values, null x: refused before any launch.
        Assert.Equal((int)FolioCudaStatus.InvalidArgument,
            FolioCudaNative.HeadRmsNorm((void*)0x1000, (void*)0x2000, 4, 8, 128, 1000, 1e-6f, (int)FolioCudaDtype.Bf16, null));
        Assert.Contains("token_stride", FolioCudaTestText.LastError(), StringComparison.Ordinal);
        Assert.Equal((int)FolioCudaStatus.InvalidArgument,
            FolioCudaNative.HeadRmsNorm((void*)0x1000, (void*)0x2000, 4, 1, 1026, 1026, 1e-6f, (int)FolioCudaDtype.Bf16, null));
        Assert.Equal((int)FolioCudaStatus.InvalidArgument,
            FolioCudaNative.HeadRmsNorm(null, (void*)0x2000, 4, 8, 128, 1024, 1e-6f, (int)FolioCudaDtype.F32, null));
        var cache = new FolioCudaPagedKv { BlockSize = 12, NumKvHeads = 2, HeadDim = 64, Dtype = (int)FolioCudaDtype.Bf16 };
        var rope = new FolioCudaRopeKvWriteParams { StructSize = (uint)sizeof(FolioCudaRopeKvWriteParams), NumTokens = 1, NumQHeads = 4, RotaryDim = 64 };
        Assert.Equal((int)FolioCudaStatus.InvalidArgument, FolioCudaNative.RopeKvWrite(&cache, &rope, null));
        Assert.Contains("power of two", FolioCudaTestText.LastError(), StringComparison.Ordinal);
    }
}
