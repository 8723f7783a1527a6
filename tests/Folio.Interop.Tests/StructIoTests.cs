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
}
