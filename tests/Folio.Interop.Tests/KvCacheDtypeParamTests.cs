using Folio.Core.Sampling;
using Folio.Interop.Abi;
using Folio.Interop.Hosts;
using Folio.Interop.Runtime;

namespace Folio.Interop.Tests;

/// <summary>folio_engine_params.kv_cache_dtype (ABI 1.5): checked, refused on CUDA and where the CPU cannot read bf16,
/// defaulted for older hosts, and passed to the CPU model's KV cache.</summary>
public sealed unsafe class KvCacheDtypeParamTests
{
    private static string LastMessage() =>
        System.Text.Encoding.UTF8.GetString(new ReadOnlySpan<byte>(LastError.Current, 400)).Split('\0')[0];

    private static FolioEngineParams Tiny(FolioKvCacheDtype kvCacheDtype)
    {
        var p = Defaults.EngineParams();
        p.KvCacheDtype = (int)kvCacheDtype;
        p.NumThreads = 1;
        p.KvMemoryBytes = 4UL << 20;
        return p;
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    public void An_unknown_kv_cache_dtype_is_invalid_and_named(int value)
    {
        var p = Defaults.EngineParams();
        Assert.Equal((int)FolioKvCacheDtype.Auto, p.KvCacheDtype);
        p.KvCacheDtype = value;
        Assert.Equal((int)FolioStatus.InvalidArgument, EngineFactory.Create(p, out EngineHost host));
        Assert.Null(host);
        Assert.Contains($"params->kv_cache_dtype is {value}; expected FOLIO_KV_CACHE_DTYPE_AUTO (0), FOLIO_KV_CACHE_DTYPE_F32 (1) or FOLIO_KV_CACHE_DTYPE_BF16 (2)", LastMessage());
    }

    [Theory]
    [InlineData(FolioKvCacheDtype.F32)]
    [InlineData(FolioKvCacheDtype.Bf16)]
    public void Cuda_takes_only_auto(FolioKvCacheDtype kvCacheDtype)
    {
        // Refused before any model or GPU is touched, so the same on machines with and without one.
        var p = Tiny(kvCacheDtype);
        p.Device = (int)FolioDevice.Cuda;
        Assert.Equal((int)FolioStatus.Unsupported, EngineFactory.Create(p, out EngineHost host));
        Assert.Null(host);
        Assert.Contains("params->kv_cache_dtype is a CPU backend option; FOLIO_DEVICE_CUDA takes AUTO", LastMessage());
    }

    [Fact]
    public void An_older_hosts_struct_gets_the_fp32_cache()
    {
        var buffer = new byte[sizeof(FolioEngineParams)];
        Array.Fill(buffer, (byte)0xCD);   // garbage past the 1.4 host's 120 bytes must not be read
        fixed (byte* b = buffer)
        {
            var old = Tiny(FolioKvCacheDtype.Auto);
            Buffer.MemoryCopy(&old, b, 120, 120);
            *(uint*)b = 120;
            Assert.Equal(0, StructIo.Read(b, "f", "params", "folio_engine_params", Defaults.EngineParams(), out FolioEngineParams read));
            Assert.Equal((int)FolioKvCacheDtype.Auto, read.KvCacheDtype);
            Assert.Equal(4UL << 20, read.KvMemoryBytes);
        }
    }

    [Fact]
    public void Bf16_holds_twice_the_blocks_and_greedy_tokens_match_fp32_on_the_tiny_model()
    {
        Assert.Equal(0, EngineFactory.Create(Tiny(FolioKvCacheDtype.Auto), out EngineHost fp32));
        EngineHost? bf16 = null;
        try
        {
            int status = EngineFactory.Create(Tiny(FolioKvCacheDtype.Bf16), out bf16);
            Assert.Equal(0, status);   // every CPU: the one-pass kernel where AVX-512 runs, the two-pass one elsewhere
            // 4 MiB of tiny's KV (4 layers × K and V × 4 heads × 32): 1,024 tokens in fp32, 2,048 in bf16.
            Assert.Equal(64L, fp32.GetStats().KvBlocksTotal);
            Assert.Equal(128L, bf16.GetStats().KvBlocksTotal);
            var greedy = new SamplingParams { MaxTokens = 16, Temperature = 0, IgnoreEos = true };
            int[][] prompts = [[464, 2068, 7586, 21831], [15496, 11, 314, 716, 257, 3303, 2746, 13, 314]];
            OutputList a = fp32.Generate(prompts, greedy)!;
            OutputList b = bf16.Generate(prompts, greedy)!;
            Assert.Equal(2, b.Count);
            for (int i = 0; i < a.Count; i++)
            {
                Assert.Equal(16ul, b[i].NumTokens);
                Assert.Equal(new ReadOnlySpan<int>(a[i].TokenIds, (int)a[i].NumTokens).ToArray(),
                    new ReadOnlySpan<int>(b[i].TokenIds, (int)b[i].NumTokens).ToArray());
            }
        }
        finally
        {
            fp32.Dispose();
            bf16?.Dispose();
        }
    }
}
