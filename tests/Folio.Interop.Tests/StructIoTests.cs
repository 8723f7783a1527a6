using Folio.Interop.Abi;
using Folio.Interop.Runtime;

namespace Folio.Interop.Tests;

public unsafe class StructIoTests
{
    [Fact]
    public void Struct_size_too_small_too_large_and_absurd_are_refused_with_the_field_named()
    {
        var buffer = new byte[256];
        fixed (byte* p = buffer)
        {
            var init = Defaults.KvManagerParams();
            *(FolioKvManagerParams*)p = init;
            Assert.Equal(0, StructIo.Read(p, "f", "params", "folio_kv_manager_params", out FolioKvManagerParams read));
            Assert.Equal(init, read);

            *(uint*)p = (uint)sizeof(FolioKvManagerParams) - 4;
            Assert.Equal((int)FolioStatus.StructSize, StructIo.Read(p, "f", "params", "folio_kv_manager_params", out read));
            Assert.Contains("params->struct_size", System.Text.Encoding.UTF8.GetString(
                new ReadOnlySpan<byte>(LastError.Current, 200)).Split('\0')[0]);

            *(uint*)p = 200;   // newer header, zero tail: accepted
            Assert.Equal(0, StructIo.Read(p, "f", "params", "folio_kv_manager_params", out read));
            p[150] = 1;         // a newer field set: refused
            Assert.Equal((int)FolioStatus.StructSize, StructIo.Read(p, "f", "params", "folio_kv_manager_params", out read));

            *(uint*)p = 1u << 20;
            Assert.Equal((int)FolioStatus.StructSize, StructIo.Read(p, "f", "params", "folio_kv_manager_params", out read));
            Assert.Equal((int)FolioStatus.InvalidArgument, StructIo.Read<FolioKvManagerParams>(null, "f", "params", "x", out read));
        }
    }

    [Fact]
    public void Writing_an_out_struct_keeps_the_callers_size_and_zeroes_the_tail()
    {
        var buffer = new byte[300];
        Array.Fill(buffer, (byte)0xAB);
        fixed (byte* p = buffer)
        {
            *(uint*)p = 300;
            Assert.Equal(0, StructIo.CheckOut<FolioStats>(p, "f", "out", "folio_stats"));
            StructIo.Write(p, new FolioStats { StructSize = (uint)sizeof(FolioStats), KvBlocksTotal = 7 });
            Assert.Equal(300u, *(uint*)p);
            Assert.Equal(7, ((FolioStats*)p)->KvBlocksTotal);
            Assert.All(buffer[sizeof(FolioStats)..], b => Assert.Equal(0, b));
        }
    }
    private static string LastMessage() =>
        System.Text.Encoding.UTF8.GetString(new ReadOnlySpan<byte>(LastError.Current, 300)).Split('\0')[0];

    [Fact]
    public void Init_writes_only_the_fields_of_an_older_hosts_struct()
    {
        var buffer = new byte[200];
        Array.Fill(buffer, (byte)0xAB);
        fixed (byte* p = buffer)
        {
            *(uint*)p = 104;   // folio_sampling_params of ABI 1.0: no beam search fields
            Assert.Equal(0, StructIo.Init(p, "f", "folio_sampling_params", Defaults.SamplingParams()));
            Assert.Equal(104u, *(uint*)p);
            Assert.Equal(1, ((FolioSamplingParams*)p)->N);
            Assert.All(buffer[104..], b => Assert.Equal(0xAB, b));

            Array.Fill(buffer, (byte)0xAB);
            *(uint*)p = 108;   // between two releases: no header's size
            Assert.Equal((int)FolioStatus.InvalidArgument, StructIo.Init(p, "f", "folio_sampling_params", Defaults.SamplingParams()));
            Assert.Contains("(1.0: 104, 1.1: 112, 1.2: 136, 1.3: 248 bytes)", LastMessage());
            Assert.Equal(0xAB, buffer[8]);   // nothing written
        }
    }

    [Fact]
    public void Reading_an_older_hosts_struct_defaults_the_fields_it_lacks()
    {
        var buffer = new byte[200];
        Array.Fill(buffer, (byte)0xCD);   // garbage past the host's struct must not be read
        fixed (byte* p = buffer)
        {
            var old = Defaults.SamplingParams();
            old.MaxTokens = 7;
            Buffer.MemoryCopy(&old, p, 104, 104);
            *(uint*)p = 104;
            Assert.Equal(0, StructIo.Read(p, "f", "params", "folio_sampling_params", Defaults.SamplingParams(), out FolioSamplingParams read));
            Assert.Equal((7, 0, 1f, 0, 0ul), (read.MaxTokens, read.BeamWidth, read.LengthPenalty, read.Priority, read.CacheSaltLen));
            Assert.Equal((0, 0ul, 0ul), (read.StructuredOutputKind, read.NumLogitBias, read.NumBadWords));   // ABI 1.3's: off

            *(uint*)p = 108;
            Assert.Equal((int)FolioStatus.StructSize, StructIo.Read(p, "f", "params", "folio_sampling_params", Defaults.SamplingParams(), out read));
        }
    }

    [Fact]
    public void An_older_hosts_out_struct_gets_only_its_fields()
    {
        var buffer = new byte[200];
        Array.Fill(buffer, (byte)0xEF);
        fixed (byte* p = buffer)
        {
            *(uint*)p = 96;   // folio_request_output of ABI 1.0 and 1.1: no reject_reason
            Assert.Equal(0, StructIo.CheckOut<FolioRequestOutput>(p, "f", "out", "folio_request_output"));
            StructIo.Write(p, new FolioRequestOutput { StructSize = (uint)sizeof(FolioRequestOutput), NumPromptTokens = 5, RejectReasonLen = 9 });
            Assert.Equal(96u, *(uint*)p);
            Assert.Equal(5ul, ((FolioRequestOutput*)p)->NumPromptTokens);
            Assert.All(buffer[96..], b => Assert.Equal(0xEF, b));
        }
    }
}
