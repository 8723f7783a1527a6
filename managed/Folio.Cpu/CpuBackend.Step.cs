using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Core.Sampling;

namespace Folio.Cpu;

// The ops that read a step's metadata (through the CpuStepContext bound by BeginStep), the KV cache, and sampling.
public sealed partial class CpuBackend
{
    private readonly CpuStepContext _step = new();

    public DeviceKvCache AllocateKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim,
        DType dtype = DType.F32, KvCacheLayout layout = KvCacheLayout.Nhd)
    {
        // The kernels here compute in fp32 and store the cache in fp32 or bf16, NHD; fp16 and HND caches are for GPU backends.
        RequireKvType(dtype, nameof(dtype));
        if (layout != KvCacheLayout.Nhd)
            throw new ArgumentException($"the CPU backend keeps the KV cache in the Nhd layout, not {layout}", nameof(layout));
        return new CpuKvCache(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype);
    }

    /// <summary>Checks the step and points the backend's one context at its arrays: nothing is copied.</summary>
    public StepContext BeginStep(ModelInput input, DeviceKvCache cache)
    {
        C(cache);
        _step.Begin(input, cache);
        return _step;
    }

    public ISampler CreateSampler(SamplerSettings settings) => new CpuSampler(this, _runner, settings);

    public void Embedding(DeviceTensor table, StepContext step, DeviceTensor output)
    {
        var mapped = table as Weights.MappedTable;
        var blocks = table as Weights.KQuantWeight;
        var int8 = table as Weights.Int8Weight;
        var int4 = table as Weights.Int4Weight;
        var t = mapped is null && blocks is null && int8 is null && int4 is null ? T(table) : null;
        var o = T(output);
        var tokenIds = S(step).TokenIds;
        Require(o.Rows == tokenIds.Length && o.Cols == table.Cols, "Embedding: output must be [tokens, hidden]");
        for (int r = 0; r < tokenIds.Length; r++)
        {
            int id = tokenIds[r];
            if ((uint)id >= (uint)table.Rows)
                throw new ArgumentOutOfRangeException(nameof(step), $"token id {id} outside the vocabulary ({table.Rows})");
            if (mapped is not null)
                mapped.CopyRow(id, o.Row(r));
            else if (blocks is not null)
                blocks.DequantizeRow(id, o.Row(r));
            else if (int8 is not null)
                int8.DequantizeRow(id, o.Row(r));
            else if (int4 is not null)
                int4.DequantizeRow(id, o.Row(r));
            else
                t!.Row(id).CopyTo(o.Row(r));
        }
    }

    /// <summary><see cref="Rope"/> in place, then <see cref="WriteKv"/>; the queries stay in <paramref name="qkv"/>.</summary>
    public DeviceTensor RotateAndCache(DeviceTensor qkv, AttentionShape shape, StepContext step, DeviceTensor inverseFrequencies,
        int layer)
    {
        Rope(qkv, shape, step, inverseFrequencies);
        WriteKv(qkv, shape, step, layer);
        return qkv;
    }

    /// <summary>Rotates the Q and K heads of <paramref name="qkv"/> in place (rotate-half layout), row r at the
    /// step's position r, angle = position × inverseFrequencies[i] (a [1, HeadDim / 2] tensor).</summary>
    public void Rope(DeviceTensor qkv, AttentionShape shape, StepContext step, DeviceTensor inverseFrequencies)
    {
        var t = T(qkv);
        var positions = S(step).Input.Positions;
        var frequencies = T(inverseFrequencies);
        int half = shape.HeadDim / 2;
        Require(t.Cols == shape.QkvCols && step.NumTokens == t.Rows && frequencies.Rows * frequencies.Cols == half, "Rope: shapes differ");
        // Rows are independent (each its own position): a prefill's rows split over the threads.
        _runner.For(t.Rows, 1L * t.Rows * (shape.NumHeads + shape.NumKvHeads) * half, new RopeJob(t, shape, positions, frequencies.Data),
            static (j, r) => RopeRow(j.Qkv.Row(r), j.Shape, j.Positions[r], j.Frequencies));
    }

    /// <summary>One row's Q and K heads rotated by <paramref name="position"/>.</summary>
    private static void RopeRow(Span<float> row, AttentionShape shape, int position, float[] frequencies)
    {
        int half = shape.HeadDim / 2;
        Span<float> cos = half <= 512 ? stackalloc float[half] : new float[half];
        Span<float> sin = half <= 512 ? stackalloc float[half] : new float[half];
        float p = position;
        for (int i = 0; i < half; i++)
        {
            // Hugging Face computes the angle in fp32 (inv_freq × position), then cos/sin.
            float angle = frequencies[i] * p;
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
        }
        int heads = shape.NumHeads + shape.NumKvHeads;   // Q heads then K heads are contiguous
        int vectorEnd = Vector512.IsHardwareAccelerated ? half / 16 * 16 : 0;
        for (int h = 0; h < heads; h++)
        {
            var head = row.Slice(h * shape.HeadDim, shape.HeadDim);
            // 16 pairs at a time where the vectors run: the same products and one rounding each (no fused
            // multiply-add), so a lane's result equals the scalar loop's bit for bit.
            ref float a0 = ref MemoryMarshal.GetReference(head);
            ref float b0 = ref Unsafe.Add(ref a0, half);
            ref float c0 = ref MemoryMarshal.GetReference(cos);
            ref float s0 = ref MemoryMarshal.GetReference(sin);
            for (int i = 0; i < vectorEnd; i += 16)
            {
                var a = Vector512.LoadUnsafe(ref a0, (nuint)i);
                var b = Vector512.LoadUnsafe(ref b0, (nuint)i);
                var c = Vector512.LoadUnsafe(ref c0, (nuint)i);
                var sn = Vector512.LoadUnsafe(ref s0, (nuint)i);
                (a * c - b * sn).StoreUnsafe(ref a0, (nuint)i);
                (b * c + a * sn).StoreUnsafe(ref b0, (nuint)i);
            }
            for (int i = vectorEnd; i < half; i++)
            {
                float a = head[i], b = head[i + half];
                head[i] = a * cos[i] - b * sin[i];
                head[i + half] = b * cos[i] + a * sin[i];
            }
        }
    }

    private readonly record struct RopeJob(CpuTensor Qkv, AttentionShape Shape, int[] Positions, float[] Frequencies);

    /// <summary>Writes the K and V of row r of <paramref name="qkv"/> into the step's slot r of the layer's cache.</summary>
    public void WriteKv(DeviceTensor qkv, AttentionShape shape, StepContext step, int layer)
    {
        var s = S(step);
        var t = T(qkv);
        var c = C(s.Cache);
        var slotMapping = s.SlotMapping;
        Require(t.Cols == shape.QkvCols && slotMapping.Length == t.Rows, "WriteKv: shapes differ");
        c.RequireHeads(shape, "WriteKv");
        DTypes.Require(t.DType, DType.F32, "WriteKv: qkv");
        int width = c.SlotFloats;
        bool half = c.DType == DType.BF16;
        var keys = half ? null : c.Keys[layer];
        var values = half ? null : c.Values[layer];
        var keys16 = half ? c.Keys16[layer] : null;
        var values16 = half ? c.Values16[layer] : null;
        // Slots were checked against the cache when the step began.
        for (int r = 0; r < t.Rows; r++)
        {
            int slot = (int)slotMapping[r];
            if (slot < 0)
                continue;   // a padding row
            var row = t.Row(r);
            if (half)
            {
                Bf16Rounding.Round(row.Slice(shape.KeyOffset, width), keys16.AsSpan(slot * width, width));
                Bf16Rounding.Round(row.Slice(shape.ValueOffset, width), values16.AsSpan(slot * width, width));
            }
            else
            {
                row.Slice(shape.KeyOffset, width).CopyTo(keys.AsSpan(slot * width, width));
                row.Slice(shape.ValueOffset, width).CopyTo(values.AsSpan(slot * width, width));
            }
        }
    }

    /// <summary>Reads the queries from <paramref name="qkv"/>, where <see cref="RotateAndCache"/> left them.</summary>
    public void PagedAttention(DeviceTensor qkv, AttentionShape shape, StepContext step, int layer, float scale,
        int slidingWindow, DeviceTensor output)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slidingWindow);
        var s = S(step);
        var t = T(qkv);
        var c = C(s.Cache);
        var o = T(output);
        Require(t.Cols == shape.QkvCols && o.Cols == shape.QueryCols && o.Rows == t.Rows && s.NumTokens == t.Rows,
            "PagedAttention: shapes differ");
        c.RequireHeads(shape, "PagedAttention");
        DTypes.Require(t.DType, DType.F32, "PagedAttention: qkv");
        // Block tables, lengths and query starts were checked against the cache when the step began.
        PagedAttentionKernel.Run(t, shape, c, layer, s, scale, slidingWindow, o, _runner);
    }

    public void GatherRows(DeviceTensor input, StepContext step, DeviceTensor output)
    {
        var x = T(input);
        var y = T(output);
        var rows = S(step).LogitsRows;
        Require(y.Rows == rows.Length && y.Cols == x.Cols && x.Rows == step.NumTokens, "GatherRows: output must be [logits rows, cols]");
        for (int j = 0; j < rows.Length; j++)
            x.Row(rows[j]).CopyTo(y.Row(j));
    }

    public void CopyBlocks(DeviceKvCache cache, ReadOnlySpan<int> pairs) => MoveBlocks(cache, cache, pairs);

    public void MoveBlocks(DeviceKvCache from, DeviceKvCache to, ReadOnlySpan<int> pairs)
    {
        var a = C(from);
        var b = C(to);
        Require(pairs.Length % 2 == 0, "MoveBlocks: pairs must hold (src, dst) pairs: an even count");
        a.RequireSameBlockFormat(b, "MoveBlocks");
        int n = a.BlockFloats;
        for (int i = 0; i < pairs.Length; i += 2)
        {
            int s = pairs[i], d = pairs[i + 1];
            if ((uint)s >= (uint)a.NumBlocks || (uint)d >= (uint)b.NumBlocks)
                throw new ArgumentOutOfRangeException(nameof(pairs), $"block pair ({s}, {d}) outside the caches");
            for (int l = 0; l < a.NumLayers; l++)
            {
                if (a.DType == DType.BF16)
                {
                    a.Keys16[l].AsSpan(s * n, n).CopyTo(b.Keys16[l].AsSpan(d * n, n));
                    a.Values16[l].AsSpan(s * n, n).CopyTo(b.Values16[l].AsSpan(d * n, n));
                }
                else
                {
                    a.Keys[l].AsSpan(s * n, n).CopyTo(b.Keys[l].AsSpan(d * n, n));
                    a.Values[l].AsSpan(s * n, n).CopyTo(b.Values[l].AsSpan(d * n, n));
                }
            }
        }
    }

    private CpuStepContext S(StepContext step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return ReferenceEquals(step, _step) && step.Input is not null
            ? _step
            : throw new ArgumentException("the step context was not begun by this backend (BeginStep)", nameof(step));
    }
}
