using System.Runtime.InteropServices;
using Folio.Core.Compute;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Cuda.Native;

namespace Folio.Cuda.Backend;

/// <summary>
/// Sampling on the GPU (<c>folio_sample</c>): per-row parameters go up in one transfer, and only the sampled ids,
/// their log-probabilities and the requested top log-probabilities come back. Rows that need what the kernel does
/// not do — beam candidates, the n draws of a completing n-sample prompt, structured-output masks, logit bias,
/// allowed or bad words — are sampled on the host by the reference (<see cref="HostSampler"/>) from that row alone,
/// downloaded. A row's draw is keyed by its request's seed, its sequence's stream and its token count (Philox), so
/// it does not depend on the batch; the draws are not the CPU sampler's (same distribution, other numbers).
/// </summary>
internal sealed unsafe class CudaSampler : HostSampler
{
    private const ulong StreamMix = 0x9E3779B97F4A7C15UL;   // odd 64-bit constant: distinct streams of one seed
    private readonly CudaBackend _backend;
    private readonly int[] _eos;
    private readonly StagedUpload _parameters;
    private DeviceBuffer? _workspace;
    private DeviceBuffer? _results;
    private PinnedHostBuffer? _hostResults;
    private bool[] _onHost = [];
    private float[] _row = [];
    private readonly TokenLogprob[] _top = new TokenLogprob[FolioCudaLimits.MaxLogprobs];

    public CudaSampler(CudaBackend backend, SamplerSettings settings) : base(backend, settings)
    {
        _backend = backend;
        _eos = [.. settings.EosTokenIds];
        _parameters = new StagedUpload(backend.Stream);
    }

    public override void Sample(StepContext step, DeviceTensor logits, StepPlan plan, StepOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outputs);
        var t = CudaBackend.T(logits);
        int rows = plan.NumLogitsRows;
        if (t.Rows != rows)
            throw new ArgumentException($"Sample: {t.Rows} logits rows for a plan with {rows}", nameof(logits));
        outputs.Clear();
        if (_onHost.Length < rows)
            _onHost = new bool[Math.Max(rows, 2 * _onHost.Length)];
        int numLogprobs = 0;
        for (int l = 0; l < rows; l++)
        {
            var row = plan.SamplingOf(l);
            _onHost[l] = plan.NumBeamCandidates[l] > 0 || plan.NumSamples[l] != 1 || !row.Constraints.IsEmpty;
            if (!_onHost[l])
                numLogprobs = Math.Max(numLogprobs, row.Params.Logprobs ?? 0);
        }
        var results = rows > 0 ? SampleOnDevice(t, plan, numLogprobs) : default;
        var logitsRows = plan.LogitsSequenceRow;
        int vocab = t.Cols;
        int at = 0;
        for (int k = 0; k < plan.NumSequences; k++)
        {
            outputs.BeginEntry();
            if (at == rows || logitsRows[at] != k)
                continue;
            int l = at++;
            if (_onHost[l])
            {
                if (_row.Length < vocab)
                    _row = new float[vocab];
                _backend.DownloadRow(t, l, _row.AsSpan(0, vocab));
                SampleRow(_row.AsSpan(0, vocab), plan, l, outputs);
                continue;
            }
            int wanted = plan.SamplingOf(l).Params.Logprobs ?? 0;
            for (int j = 0; j < wanted; j++)
                _top[j] = new TokenLogprob(results.TopIds[l * numLogprobs + j], results.TopLogprobs[l * numLogprobs + j]);
            outputs.AddSample(results.Sampled[l], results.SampledLogprobs[l], _top.AsSpan(0, wanted));
        }
    }

    private readonly ref struct Results(Span<int> sampled, Span<float> logprobs, Span<int> topIds, Span<float> topLogprobs)
    {
        public readonly Span<int> Sampled = sampled;
        public readonly Span<float> SampledLogprobs = logprobs;
        public readonly Span<int> TopIds = topIds;
        public readonly Span<float> TopLogprobs = topLogprobs;
    }

    /// <summary>Samples every row on the device (host rows too: their draw is simply not used) and waits for the
    /// results.</summary>
    private Results SampleOnDevice(CudaTensor logits, StepPlan plan, int numLogprobs)
    {
        int rows = plan.NumLogitsRows;
        int vocab = logits.Cols;
        // Token lists for the penalties (only the rows whose penalties read them) and the suppressed ids.
        int promptCount = 0, outputCount = 0, suppressedCount = 0;
        for (int l = 0; l < rows; l++)
        {
            var row = plan.SamplingOf(l);
            var p = row.Params;
            if (p.RepetitionPenalty != 1f)
                promptCount += row.PromptTokens.Length;
            if (UsesOutputTokens(p))
                outputCount += row.GeneratedTokens.Length;
            if (plan.SuppressStop[l] != 0)
                suppressedCount += _eos.Length + p.StopTokenIds.Count;
        }
        var u = _parameters;
        u.Clear();
        long oTemperature = u.Reserve<float>(rows), oTopK = u.Reserve<int>(rows), oTopP = u.Reserve<float>(rows),
            oMinP = u.Reserve<float>(rows), oPresence = u.Reserve<float>(rows), oFrequency = u.Reserve<float>(rows),
            oRepetition = u.Reserve<float>(rows), oSeeds = u.Reserve<ulong>(rows), oDraws = u.Reserve<ulong>(rows),
            oPromptOffsets = u.Reserve<int>(rows + 1), oPrompt = u.Reserve<int>(promptCount),
            oOutputOffsets = u.Reserve<int>(rows + 1), oOutput = u.Reserve<int>(outputCount),
            oSuppressedOffsets = u.Reserve<int>(rows + 1), oSuppressed = u.Reserve<int>(suppressedCount);
        u.Allocate();
        var temperature = u.Put<float>(oTemperature, rows);
        var topK = u.Put<int>(oTopK, rows);
        var topP = u.Put<float>(oTopP, rows);
        var minP = u.Put<float>(oMinP, rows);
        var presence = u.Put<float>(oPresence, rows);
        var frequency = u.Put<float>(oFrequency, rows);
        var repetition = u.Put<float>(oRepetition, rows);
        var seeds = u.Put<ulong>(oSeeds, rows);
        var draws = u.Put<ulong>(oDraws, rows);
        var promptOffsets = u.Put<int>(oPromptOffsets, rows + 1);
        var prompt = u.Put<int>(oPrompt, promptCount);
        var outputOffsets = u.Put<int>(oOutputOffsets, rows + 1);
        var output = u.Put<int>(oOutput, outputCount);
        var suppressedOffsets = u.Put<int>(oSuppressedOffsets, rows + 1);
        var suppressed = u.Put<int>(oSuppressed, suppressedCount);
        int pi = 0, oi = 0, si = 0;
        for (int l = 0; l < rows; l++)
        {
            var row = plan.SamplingOf(l);
            var p = row.Params;
            temperature[l] = p.Temperature;
            topK[l] = p.TopK;
            topP[l] = p.TopP;
            minP[l] = p.MinP;
            presence[l] = p.PresencePenalty;
            frequency[l] = p.FrequencyPenalty;
            repetition[l] = p.RepetitionPenalty;
            seeds[l] = (ulong)(row.Seed ?? DefaultSeed) ^ ((ulong)row.StreamIndex * StreamMix);
            draws[l] = (ulong)row.NumTokens;
            promptOffsets[l] = pi;
            if (p.RepetitionPenalty != 1f)
            {
                row.PromptTokens.CopyTo(prompt[pi..]);
                pi += row.PromptTokens.Length;
            }
            outputOffsets[l] = oi;
            if (UsesOutputTokens(p))
            {
                row.GeneratedTokens.CopyTo(output[oi..]);
                oi += row.GeneratedTokens.Length;
            }
            suppressedOffsets[l] = si;
            if (plan.SuppressStop[l] != 0)
            {
                var ids = Suppressed(p);
                ids.CopyTo(suppressed[si..]);
                si += ids.Length;
            }
        }
        promptOffsets[rows] = pi;
        outputOffsets[rows] = oi;
        suppressedOffsets[rows] = si;
        nint d = u.Commit();

        nuint workspaceBytes;
        FolioCudaException.Check(FolioCudaNative.SampleWorkspaceSize(rows, vocab, &workspaceBytes));
        if (_workspace is null || (nuint)_workspace.Bytes < workspaceBytes)
        {
            _workspace?.Dispose();
            _workspace = DeviceBuffer.Allocate((long)workspaceBytes * 2);
        }
        // Results: sampled ids, their logprobs, top ids, top logprobs, packed; one download.
        long resultBytes = 8L * rows + 8L * rows * numLogprobs;
        if (_results is null || _results.Bytes < resultBytes)
        {
            _results?.Dispose();
            _hostResults?.Dispose();
            long capacity = Math.Max(resultBytes * 2, 4096);
            _results = DeviceBuffer.Allocate(capacity);
            _hostResults = PinnedHostBuffer.Allocate(capacity);
        }
        nint r = _results.Pointer;
        long oLogprobs = 4L * rows, oTopIds = 8L * rows, oTopLogprobs = 8L * rows + 4L * rows * numLogprobs;
        var sp = new FolioCudaSampleParams
        {
            StructSize = (uint)sizeof(FolioCudaSampleParams),
            NumRows = rows, VocabSize = vocab, Dtype = (int)CudaDtypes.Of(logits.DType),
            Logits = (void*)logits.Pointer, LogitsRowStride = vocab,
            Temperature = (float*)(d + (nint)oTemperature), TopK = (int*)(d + (nint)oTopK), TopP = (float*)(d + (nint)oTopP),
            MinP = (float*)(d + (nint)oMinP), PresencePenalty = (float*)(d + (nint)oPresence),
            FrequencyPenalty = (float*)(d + (nint)oFrequency), RepetitionPenalty = (float*)(d + (nint)oRepetition),
            Seeds = (ulong*)(d + (nint)oSeeds), DrawIndex = (ulong*)(d + (nint)oDraws),
            PromptTokens = promptCount > 0 ? (int*)(d + (nint)oPrompt) : null, PromptOffsets = (int*)(d + (nint)oPromptOffsets),
            OutputTokens = outputCount > 0 ? (int*)(d + (nint)oOutput) : null, OutputOffsets = (int*)(d + (nint)oOutputOffsets),
            SuppressedTokens = suppressedCount > 0 ? (int*)(d + (nint)oSuppressed) : null,
            SuppressedOffsets = (int*)(d + (nint)oSuppressedOffsets),
            ValidVocab = Math.Min(ValidTokenCount, vocab),
            NumLogprobs = numLogprobs,
            Sampled = (int*)r, SampledLogprobs = (float*)(r + (nint)oLogprobs),
            TopIds = numLogprobs > 0 ? (int*)(r + (nint)oTopIds) : null,
            TopLogprobs = numLogprobs > 0 ? (float*)(r + (nint)oTopLogprobs) : null,
            Workspace = (void*)_workspace.Pointer, WorkspaceBytes = (nuint)_workspace.Bytes,
        };
        var stream = _backend.Stream;
        FolioCudaException.Check(FolioCudaNative.Sample(&sp, (void*)stream.Pointer));
        _backend.MarkStepEnd();
        NativeBuffer.CopyAsync(_hostResults!, 0, _results, 0, resultBytes, stream);
        stream.Synchronize();   // the step's one wait: the ids are needed now
        _backend.ReadStepTime();
        var bytes = _hostResults!.AsSpan<byte>();
        return new Results(
            MemoryMarshal.Cast<byte, int>(bytes[..(4 * rows)]),
            MemoryMarshal.Cast<byte, float>(bytes.Slice((int)oLogprobs, 4 * rows)),
            MemoryMarshal.Cast<byte, int>(bytes.Slice((int)oTopIds, 4 * rows * numLogprobs)),
            MemoryMarshal.Cast<byte, float>(bytes.Slice((int)oTopLogprobs, 4 * rows * numLogprobs)));
    }

    private static bool UsesOutputTokens(SamplingParams p) =>
        p.RepetitionPenalty != 1f || p.PresencePenalty != 0f || p.FrequencyPenalty != 0f;

    public override void Dispose()
    {
        _parameters.Dispose();
        _workspace?.Dispose();
        _results?.Dispose();
        _hostResults?.Dispose();
        base.Dispose();
    }
}
