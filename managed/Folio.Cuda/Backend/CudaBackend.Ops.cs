using Folio.Core.Compute;
using Folio.Cuda.Native;

namespace Folio.Cuda.Backend;

// The layer ops: each checks shapes on the host and enqueues one launch of libfolio_cuda.so on the backend's stream.
public sealed unsafe partial class CudaBackend
{
    private CudaTensor? _queries;
    private DeviceBuffer? _decodeWorkspace;
    private DeviceBuffer? _pairs;

    /// <summary>Which prefill kernel the fast path asks for (AUTO: the wgmma kernel where it runs).</summary>
    public FolioCudaPrefillKernel PrefillKernel { get; init; } = FolioCudaPrefillKernel.Auto;

    public void Embedding(DeviceTensor table, StepContext step, DeviceTensor output)
    {
        var t = T(table);
        var o = T(output);
        var s = S(step);
        Require(o.Rows == s.NumTokens && o.Cols == t.Cols && o.DType == t.DType, "Embedding: output must be [tokens, hidden] of the table's type");
        FolioCudaException.Check(FolioCudaNative.EmbeddingGather((void*)o.Pointer, (void*)t.Pointer, (int*)s.DeviceTokenIds,
            s.NumTokens, t.Rows, t.Cols, t.ElementSize, StreamPointer));
    }

    public void RmsNorm(DeviceTensor input, DeviceTensor weight, float eps, DeviceTensor output) =>
        Norm(null, T(input), T(weight), eps, T(output), "RmsNorm");

    public void AddRmsNorm(DeviceTensor target, DeviceTensor addend, DeviceTensor weight, float eps, DeviceTensor output) =>
        Norm(T(target), T(addend), T(weight), eps, T(output), "AddRmsNorm");

    private void Norm(CudaTensor? residual, CudaTensor x, CudaTensor g, float eps, CudaTensor o, string what)
    {
        Require(g.Cols == x.Cols && o.Rows == x.Rows && o.Cols == x.Cols, $"{what}: shapes differ");
        Require(residual is null || (residual.Rows == x.Rows && residual.Cols == x.Cols), $"{what}: target and addend differ in shape");
        Require(x.DType == ActivationType && g.DType == ActivationType && o.DType == ActivationType, $"{what}: not {ActivationType}");
        FolioCudaException.Check(FolioCudaNative.AddRmsNorm((void*)o.Pointer, residual is null ? null : (void*)residual.Pointer,
            (void*)x.Pointer, (void*)g.Pointer, x.Rows, x.Cols, eps, Dtype, StreamPointer));
    }

    public void MatMul(DeviceTensor input, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output)
    {
        var x = T(input);
        var w = T(weight);
        var o = T(output);
        var b = bias is null ? null : T(bias);
        Require(w.Cols == x.Cols && o.Rows == x.Rows && o.Cols == w.Rows, "MatMul: shapes differ");
        Require(b is null || b.Rows * b.Cols == w.Rows, "MatMul: the bias must hold one value per output feature");
        var p = new FolioCudaGemmParams
        {
            StructSize = (uint)sizeof(FolioCudaGemmParams),
            M = x.Rows, N = w.Rows, K = w.Cols, Dtype = Dtype,
            // fp32 is the exact mode: a row's result must not depend on the batch it runs in (cuBLASLt's does).
            Flags = ActivationType == DType.F32 ? FolioCudaLimits.GemmBatchInvariant : 0,
            Out = (void*)o.Pointer, X = (void*)x.Pointer, Weight = (void*)w.Pointer, Bias = b is null ? null : (void*)b.Pointer,
            Workspace = (void*)_gemmWorkspace.Pointer, WorkspaceBytes = (nuint)_gemmWorkspace.Bytes,
        };
        FolioCudaException.Check(FolioCudaNative.Gemm((void*)_blas.Pointer, &p, StreamPointer));
    }

    public void SiluAndMul(DeviceTensor gateUp, DeviceTensor output)
    {
        var gu = T(gateUp);
        var o = T(output);
        Require(gu.Cols == 2 * o.Cols && gu.Rows == o.Rows, "SiluAndMul: gateUp must be [rows, 2 × output cols]");
        FolioCudaException.Check(FolioCudaNative.SiluAndMul((void*)o.Pointer, (void*)gu.Pointer, o.Rows, o.Cols, gu.Cols, Dtype,
            StreamPointer));
    }

    /// <summary>Two launches of folio_head_rms_norm on qkv's query heads and on its key heads (rows QkvCols apart).</summary>
    public void HeadRmsNorm(DeviceTensor qkv, AttentionShape shape, DeviceTensor queryWeight, DeviceTensor keyWeight, float eps)
    {
        var t = T(qkv);
        var gq = T(queryWeight);
        var gk = T(keyWeight);
        Require(t.Cols == shape.QkvCols, "HeadRmsNorm: qkv must be [tokens, QkvCols]");
        Require(gq.Rows * gq.Cols == shape.HeadDim && gk.Rows * gk.Cols == shape.HeadDim, "HeadRmsNorm: each weight must be [HeadDim]");
        Require(t.DType == ActivationType && gq.DType == ActivationType && gk.DType == ActivationType, $"HeadRmsNorm: not {ActivationType}");
        FolioCudaException.Check(FolioCudaNative.HeadRmsNorm((void*)t.Pointer, (void*)gq.Pointer, t.Rows, shape.NumHeads,
            shape.HeadDim, t.Cols, eps, Dtype, StreamPointer));
        FolioCudaException.Check(FolioCudaNative.HeadRmsNorm((byte*)t.Pointer + (long)shape.KeyOffset * t.ElementSize,
            (void*)gk.Pointer, t.Rows, shape.NumKvHeads, shape.HeadDim, t.Cols, eps, Dtype, StreamPointer));
    }

    public DeviceTensor RotateAndCache(DeviceTensor qkv, AttentionShape shape, StepContext step, DeviceTensor inverseFrequencies,
        int layer)
    {
        var t = T(qkv);
        var s = S(step);
        var f = T(inverseFrequencies);
        Require(t.Cols == shape.QkvCols && t.Rows == s.NumTokens, "RotateAndCache: qkv must be [tokens, QkvCols]");
        Require(f.DType == DType.F32 && f.Rows * f.Cols == shape.HeadDim / 2, "RotateAndCache: the frequencies must be HeadDim / 2 fp32 values");
        var cache = s.CudaCache;
        cache.RequireHeads(shape, "RotateAndCache");
        var queries = Queries(t.CapacityRows, shape.QueryCols);
        queries.Resize(t.Rows);
        var view = cache.View(layer);
        int es = t.ElementSize;
        var p = new FolioCudaRopeKvWriteParams
        {
            StructSize = (uint)sizeof(FolioCudaRopeKvWriteParams),
            NumTokens = t.Rows, NumQHeads = shape.NumHeads, RotaryDim = shape.HeadDim,
            QOut = (void*)queries.Pointer,
            Q = (void*)t.Pointer,
            K = (byte*)t.Pointer + (long)shape.KeyOffset * es,
            V = (byte*)t.Pointer + (long)shape.ValueOffset * es,
            QTokenStride = t.Cols, KTokenStride = t.Cols, VTokenStride = t.Cols,
            Positions = (int*)s.DevicePositions, SlotMapping = (long*)s.DeviceSlots, InvFreq = (float*)f.Pointer,
        };
        FolioCudaException.Check(FolioCudaNative.RopeKvWrite(&view, &p, StreamPointer));
        return queries;
    }

    private CudaTensor Queries(int rows, int cols)
    {
        if (_queries is null || _queries.CapacityRows < rows || _queries.Cols != cols)
        {
            _queries?.Dispose();
            _queries = AllocateTensor(rows, cols, ActivationType);
        }
        return _queries;
    }

    public void PagedAttention(DeviceTensor queries, AttentionShape shape, StepContext step, int layer, float scale,
        int slidingWindow, DeviceTensor output)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slidingWindow);
        var q = T(queries);
        var o = T(output);
        var s = S(step);
        var cache = s.CudaCache;
        Require(q.Cols >= shape.QueryCols && o.Cols == shape.QueryCols && o.Rows == q.Rows && q.Rows == s.NumTokens,
            "PagedAttention: shapes differ");
        cache.RequireHeads(shape, "PagedAttention");
        var view = cache.View(layer);
        // A window at least as long as every context changes nothing: the fast kernels apply.
        bool windowed = slidingWindow > 0 && slidingWindow < s.MaxContextLength;
        bool fast = !windowed && ActivationType != DType.F32 && shape.HeadDim is 64 or 128 && q.Cols == shape.QueryCols &&
            shape.NumHeads / shape.NumKvHeads <= 16;
        if (fast && s.IsDecode)
            Decode(q, o, shape, s, scale, view);
        else if (fast)
            Prefill(q, o, shape, s, scale, view);
        else
            General(q, o, shape, s, scale, windowed ? slidingWindow : 0, view);
    }

    /// <summary>
    /// Allocates the decode kernel's split workspace for the largest decode a scheduler with these limits can plan
    /// (any batch up to <paramref name="maxNumSeqs"/>, contexts up to <paramref name="maxContextLength"/>, and a
    /// graphed step's width bound above it), so that it is held before the KV cache is sized and never grows (a
    /// growth would also drop every captured graph). Returns the bytes it holds.
    /// </summary>
    public long ReserveDecodeWorkspace(int maxNumSeqs, int numHeads, int numKvHeads, int headDim, int maxContextLength, int blockSizeTokens)
    {
        // The split-K kernel (and so a workspace) serves the 16-bit types at head_dim 64 and 128 only; see Attention.
        if (ActivationType == DType.F32 || headDim is not (64 or 128) || numHeads / numKvHeads > 16)
            return _decodeWorkspace?.Bytes ?? 0;
        int blocks = (int)(((long)maxContextLength + blockSizeTokens - 1) / blockSizeTokens);
        int width = BlockTableWidth(blocks);
        int maxContext = Math.Max(maxContextLength, width > 0 ? width * blockSizeTokens : 0);
        nuint most = 0;
        for (int b = 1; ; b = Math.Min(b * 2, maxNumSeqs))
        {
            // The split count depends on the batch (small batches split the context more), so every size is asked.
            foreach (int context in (ReadOnlySpan<int>)[maxContextLength, maxContext])
            {
                nuint need;
                FolioCudaException.Check(FolioCudaNative.PagedAttentionDecodeWorkspaceSize(b, numHeads, numKvHeads, headDim, context, &need));
                most = Math.Max(most, need);
            }
            if (b == maxNumSeqs)
                break;
        }
        GrowDecodeWorkspace(most, (long)most);
        return _decodeWorkspace?.Bytes ?? 0;
    }

    /// <summary>Replaces the decode workspace by <paramref name="allocate"/> bytes when it holds fewer than
    /// <paramref name="need"/> (a new one is zeroed once: the kernel leaves its workspace zeroed after each launch).
    /// The move changes the buffers' generation, so graphs captured with the old address are dropped.</summary>
    private void GrowDecodeWorkspace(nuint need, long allocate)
    {
        if (need == 0 || (_decodeWorkspace is not null && (nuint)_decodeWorkspace.Bytes >= need))
            return;
        _buffersGeneration++;
        _decodeWorkspace?.Dispose();
        _decodeWorkspace = DeviceBuffer.Allocate(allocate);
        _decodeWorkspace.Fill(0, _stream);
    }

    private void Decode(CudaTensor q, CudaTensor o, AttentionShape shape, CudaStepContext s, float scale, FolioCudaPagedKv view)
    {
        // A graphed step passes the bound of its width (the graph replays for every step of that width).
        int maxContext = _contextBound > 0 ? _contextBound : s.MaxContextLength;
        nuint need;
        FolioCudaException.Check(FolioCudaNative.PagedAttentionDecodeWorkspaceSize(s.NumSequences, shape.NumHeads,
            shape.NumKvHeads, shape.HeadDim, maxContext, &need));
        GrowDecodeWorkspace(need, (long)need * 2);
        var p = new FolioCudaPagedAttentionDecodeParams
        {
            StructSize = (uint)sizeof(FolioCudaPagedAttentionDecodeParams),
            NumSeqs = s.NumSequences, NumQHeads = shape.NumHeads, MaxBlocksPerSeq = s.BlockTableStride,
            MaxContextLen = maxContext, Scale = scale,
            Out = (void*)o.Pointer, Q = (void*)q.Pointer, BlockTables = (int*)s.DeviceBlockTables, ContextLens = (int*)s.DeviceContextLengths,
            Workspace = need > 0 ? (void*)_decodeWorkspace!.Pointer : null,
            WorkspaceBytes = need > 0 ? (nuint)_decodeWorkspace!.Bytes : 0,
        };
        FolioCudaException.Check(FolioCudaNative.PagedAttentionDecode(&view, &p, StreamPointer));
    }

    private void Prefill(CudaTensor q, CudaTensor o, AttentionShape shape, CudaStepContext s, float scale, FolioCudaPagedKv view)
    {
        var p = new FolioCudaPagedPrefillParams
        {
            StructSize = (uint)sizeof(FolioCudaPagedPrefillParams),
            NumSeqs = s.NumSequences, NumQHeads = shape.NumHeads, MaxBlocksPerSeq = s.BlockTableStride,
            MaxQueryLen = s.MaxQueryLength, Scale = scale, Kernel = (int)PrefillKernel,
            Out = (void*)o.Pointer, Q = (void*)q.Pointer, BlockTables = (int*)s.DeviceBlockTables,
            CuQueryLens = (int*)s.DeviceQueryStarts, ContextLens = (int*)s.DeviceContextLengths,
        };
        FolioCudaException.Check(FolioCudaNative.PagedPrefill(&view, &p, StreamPointer));
    }

    private void General(CudaTensor q, CudaTensor o, AttentionShape shape, CudaStepContext s, float scale, int window,
        FolioCudaPagedKv view)
    {
        var p = new FolioCudaPagedAttentionParams
        {
            StructSize = (uint)sizeof(FolioCudaPagedAttentionParams),
            NumSeqs = s.NumSequences, NumTokens = s.NumTokens, NumQHeads = shape.NumHeads,
            MaxBlocksPerSeq = Math.Max(1, s.BlockTableStride), WindowLeft = window, Scale = scale, QTokenStride = q.Cols,
            Out = (void*)o.Pointer, Q = (void*)q.Pointer, BlockTables = (int*)s.DeviceBlockTables,
            CuQueryLens = (int*)s.DeviceQueryStarts, ContextLens = (int*)s.DeviceContextLengths,
        };
        FolioCudaException.Check(FolioCudaNative.PagedAttention(&view, &p, StreamPointer));
    }

    public void GatherRows(DeviceTensor input, StepContext step, DeviceTensor output)
    {
        var x = T(input);
        var y = T(output);
        var s = S(step);
        Require(y.Rows == s.NumLogitsRows && y.Cols == x.Cols && x.Rows == s.NumTokens && y.DType == x.DType,
            "GatherRows: output must be [logits rows, cols]");
        FolioCudaException.Check(FolioCudaNative.EmbeddingGather((void*)y.Pointer, (void*)x.Pointer, (int*)s.DeviceLogitsRows,
            s.NumLogitsRows, x.Rows, x.Cols, x.ElementSize, StreamPointer));
    }

    public void CopyBlocks(DeviceKvCache cache, ReadOnlySpan<int> pairs)
    {
        var c = Cache(cache);
        Require(!c.IsHost, "CopyBlocks: copy-on-write happens in the device cache");
        Move(c, null, pairs, FolioCudaNative.BlockCopy);
    }

    public void MoveBlocks(DeviceKvCache from, DeviceKvCache to, ReadOnlySpan<int> pairs)
    {
        var a = Cache(from);
        var b = Cache(to);
        a.RequireSameBlockFormat(b, "MoveBlocks");
        if (!a.IsHost && b.IsHost)
            Move(a, b, pairs, FolioCudaNative.BlockSwapOut);
        else if (a.IsHost && !b.IsHost)
            Move(b, a, pairs, FolioCudaNative.BlockSwapIn);
        else if (ReferenceEquals(a, b) && !a.IsHost)
            CopyBlocks(a, pairs);
        else
            throw new ArgumentException("MoveBlocks: blocks move between the device cache and the host swap cache");
    }

    private delegate int BlockMove(FolioCudaPagedKv* cache, FolioCudaBlockMoveParams* parameters, void* stream);

    private void Move(CudaKvCache device, CudaKvCache? host, ReadOnlySpan<int> pairs, BlockMove launch)
    {
        Require(pairs.Length % 2 == 0, "MoveBlocks: pairs must hold (src, dst) pairs: an even count");
        if (pairs.IsEmpty)
            return;
        long bytes = (long)pairs.Length * sizeof(int);
        if (_pairs is null || _pairs.Bytes < bytes)
        {
            _pairs?.Dispose();
            _pairs = DeviceBuffer.Allocate(Math.Max(bytes, 4096));
        }
        _pairs.Upload(pairs, _stream);   // waits: the plan's pair array may change after this call
        var view = device.View(0);
        var p = new FolioCudaBlockMoveParams
        {
            StructSize = (uint)sizeof(FolioCudaBlockMoveParams),
            NumCaches = device.NumCaches,
            CachePtrs = (ulong*)device.PointerTable.Pointer,
            HostPtrs = host is null ? null : (ulong*)host.PointerTable.Pointer,
            Pairs = (int*)_pairs.Pointer, NumPairs = pairs.Length / 2,
            HostNumBlocks = host?.NumBlocks ?? 0,
        };
        FolioCudaException.Check(launch(&view, &p, StreamPointer));
    }

    private static CudaKvCache Cache(DeviceKvCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        return cache as CudaKvCache ?? throw new ArgumentException($"a {cache.GetType().Name} is not a CUDA cache", nameof(cache));
    }
}
