using System.Runtime.InteropServices;
using System.Text;
using Folio.Core.Sampling;
using Folio.Interop.Abi;
using Folio.Interop.Hosts;
using Folio.Interop.Runtime;

namespace Folio.Interop.Exports;

/// <summary>folio_engine_*: level 1 of the ABI, shims over <see cref="EngineHost"/> (the managed LlmEngine).</summary>
public static unsafe class EngineExports
{
    // Limits that only a corrupted argument reaches: they keep a garbage count from becoming a huge read.
    private const ulong MaxPromptTokens = 1 << 26;
    private const ulong MaxPrompts = 1 << 20;

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_create")]
    public static int Create(FolioEngineParams* parameters, nint* outEngine)
    {
        const string fn = "folio_engine_create";
        try
        {
            int s;
            if ((s = StructIo.Read(parameters, fn, "params", "folio_engine_params", Defaults.EngineParams(), out FolioEngineParams p)) != 0) return s;
            if ((s = Args.NotNull(outEngine, fn, "out_engine")) != 0) return s;
            if ((s = EngineFactory.Create(p, out EngineHost host)) != 0) return s;
            return Handles.Publish(HandleKind.Engine, host, outEngine, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_destroy")]
    public static void Destroy(nint engine)
    {
        const string fn = "folio_engine_destroy";
        try
        {
            // From the engine's own callback the step that runs it still needs the engine: refuse (the lock is
            // re-entrant, so Dispose would not wait for that step, and the step would go on with a disposed model).
            if (HandleTable.Shared.TryGet(engine, HandleKind.Engine, out EngineHost host) && CallbackScope.IsInside(host))
            {
                Guard.Fail(FolioStatus.InvalidState, $"{fn}: called from a callback of the same engine; destroy it after the step returns");
                return;
            }
            // In-flight calls on other threads keep the managed engine alive until they return.
            HandleTable.Shared.Remove<EngineHost>(engine, HandleKind.Engine)?.Dispose();
        }
        catch (Exception e) { Guard.CatchVoid(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_get_vocab_size")]
    public static int GetVocabSize(nint engine, int* outVocabSize)
    {
        const string fn = "folio_engine_get_vocab_size";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outVocabSize, fn, "out_vocab_size")) != 0) return s;
            *outVocabSize = host.Model.VocabSize;
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_get_eos_token_id")]
    public static int GetEosTokenId(nint engine, int* outEosTokenId)
    {
        const string fn = "folio_engine_get_eos_token_id";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outEosTokenId, fn, "out_eos_token_id")) != 0) return s;
            *outEosTokenId = host.Model.EosTokenId;
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_sampling_params_init")]
    public static int SamplingParamsInit(nint engine, FolioSamplingParams* parameters)
    {
        const string fn = "folio_engine_sampling_params_init";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = StructIo.Init(parameters, fn, "folio_sampling_params", Defaults.SamplingParams(host.Model.Generation))) != 0) return s;
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_tokenize")]
    public static int Tokenize(nint engine, byte* text, ulong textLen, int addSpecial, int* outIds, ulong capacity, ulong* outCount)
    {
        const string fn = "folio_engine_tokenize";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outCount, fn, "out_count")) != 0) return s;
            if ((s = Args.Array(outIds, capacity, ulong.MaxValue, fn, "out_ids", "capacity")) != 0) return s;
            if ((s = Args.Flag(addSpecial, fn, "add_special")) != 0) return s;
            if ((s = Utf8Text.Decode(text, textLen, fn, "text", out string value)) != 0) return s;
            if ((s = Encode(host, value, addSpecial != 0, fn, "text", out int[] ids)) != 0) return s;
            *outCount = (ulong)ids.Length;
            if (capacity < (ulong)ids.Length)
            {
                return Guard.Fail(FolioStatus.BufferTooSmall, $"{fn}: the text is {ids.Length} tokens; capacity is {capacity}");
            }
            ids.CopyTo(new Span<int>(outIds, ids.Length));
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_detokenize")]
    public static int Detokenize(nint engine, int* ids, ulong numIds, byte* outText, ulong capacity, ulong* outLen)
    {
        const string fn = "folio_engine_detokenize";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outLen, fn, "out_len")) != 0) return s;
            if ((s = Args.Array(outText, capacity, ulong.MaxValue, fn, "out_text", "capacity")) != 0) return s;
            if ((s = Args.Array(ids, numIds, MaxPromptTokens, fn, "ids", "num_ids")) != 0) return s;
            var span = new ReadOnlySpan<int>(ids, (int)numIds);
            if ((s = Args.TokenIds(span, host.Model.VocabSize, fn, "ids")) != 0) return s;
            if (host.Model.TokenizerUnavailableReason is { } reason) return Guard.Fail(FolioStatus.Unsupported, $"{fn}: {reason}");
            return Utf8Text.Write(host.Model.Decode(span), outText, capacity, outLen, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_add_text")]
    public static int AddText(nint engine, byte* prompt, ulong promptLen, FolioSamplingParams* parameters, ulong* outRequestId)
    {
        const string fn = "folio_engine_add_text";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outRequestId, fn, "out_request_id")) != 0) return s;
            if ((s = Utf8Text.Decode(prompt, promptLen, fn, "prompt", out string text)) != 0) return s;
            if ((s = SamplingParamsReader.Read(parameters, fn, out SamplingParams sampling, out RequestOptions options)) != 0) return s;
            if ((s = Encode(host, text, true, fn, "prompt", out int[] ids)) != 0) return s;
            if ((s = CheckPrompt(host, ids, sampling, fn, "prompt")) != 0) return s;
            *outRequestId = (ulong)host.Add(ids, sampling, options);
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_add_tokens")]
    public static int AddTokens(nint engine, int* promptIds, ulong numIds, FolioSamplingParams* parameters, ulong* outRequestId)
    {
        const string fn = "folio_engine_add_tokens";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outRequestId, fn, "out_request_id")) != 0) return s;
            if ((s = Args.NotNull(promptIds, fn, "prompt_ids")) != 0) return s;
            if ((s = Args.Count(numIds, MaxPromptTokens, fn, "num_ids")) != 0) return s;
            var ids = new ReadOnlySpan<int>(promptIds, (int)numIds).ToArray();
            if ((s = Args.TokenIds(ids, host.Model.VocabSize, fn, "prompt_ids")) != 0) return s;
            if ((s = SamplingParamsReader.Read(parameters, fn, out SamplingParams sampling, out RequestOptions options)) != 0) return s;
            if ((s = CheckPrompt(host, ids, sampling, fn, "prompt_ids")) != 0) return s;
            *outRequestId = (ulong)host.Add(ids, sampling, options);
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_cancel")]
    public static int Cancel(nint engine, ulong requestId)
    {
        const string fn = "folio_engine_cancel";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if (requestId > long.MaxValue || !host.Cancel((long)requestId))
            {
                return Guard.Fail(FolioStatus.NotFound, $"{fn}: request {requestId} is unknown or already finished");
            }
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_step")]
    public static int Step(nint engine, nint* outOutputs)
    {
        const string fn = "folio_engine_step";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outOutputs, fn, "out_outputs")) != 0) return s;
            OutputList? list = host.Step();
            if (list is null) return Guard.Fail(FolioStatus.InvalidHandle, $"{fn}: engine was destroyed during the call");
            return Handles.Publish(HandleKind.Outputs, list, outOutputs, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_has_unfinished")]
    public static int HasUnfinished(nint engine, int* outHasUnfinished)
    {
        const string fn = "folio_engine_has_unfinished";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outHasUnfinished, fn, "out_has_unfinished")) != 0) return s;
            *outHasUnfinished = host.HasUnfinished ? 1 : 0;
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_set_stream_callback")]
    public static int SetStreamCallback(nint engine, delegate* unmanaged<FolioRequestOutput*, void*, void> callback, void* userData)
    {
        const string fn = "folio_engine_set_stream_callback";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            host.SetStreamCallback(callback, userData);
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_generate")]
    public static int Generate(nint engine, byte** prompts, ulong* promptLens, ulong numPrompts, FolioSamplingParams* parameters, nint* outOutputs)
    {
        const string fn = "folio_engine_generate";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = Args.NotNull(outOutputs, fn, "out_outputs")) != 0) return s;
            if ((s = Args.NotNull(prompts, fn, "prompts")) != 0) return s;
            if ((s = Args.NotNull(promptLens, fn, "prompt_lens")) != 0) return s;
            if ((s = Args.Count(numPrompts, MaxPrompts, fn, "num_prompts")) != 0) return s;
            if ((s = SamplingParamsReader.Read(parameters, fn, out SamplingParams sampling, out RequestOptions options)) != 0) return s;
            var ids = new List<int[]>((int)numPrompts);
            for (ulong i = 0; i < numPrompts; i++)
            {
                string name = $"prompts[{i}]";
                if ((s = Utf8Text.Decode(prompts[i], promptLens[i], fn, name, out string text)) != 0) return s;
                if ((s = Encode(host, text, true, fn, name, out int[] tokens)) != 0) return s;
                if ((s = CheckPrompt(host, tokens, sampling, fn, name)) != 0) return s;
                ids.Add(tokens);
            }
            OutputList? list = host.Generate(ids, sampling, options);
            if (list is null) return Guard.Fail(FolioStatus.InvalidHandle, $"{fn}: engine was destroyed during the call");
            return Handles.Publish(HandleKind.Outputs, list, outOutputs, fn);
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    [UnmanagedCallersOnly(EntryPoint = "folio_engine_get_stats")]
    public static int GetStats(nint engine, FolioStats* outStats)
    {
        const string fn = "folio_engine_get_stats";
        try
        {
            int s;
            if ((s = Engine(engine, fn, out EngineHost host)) != 0) return s;
            if ((s = StructIo.CheckOut<FolioStats>(outStats, fn, "out_stats", "folio_stats")) != 0) return s;
            StructIo.Write(outStats, host.GetStats());
            return Guard.Ok();
        }
        catch (Exception e) { return Guard.Catch(e, fn); }
    }

    private static int Engine(nint engine, string fn, out EngineHost host)
    {
        int s = Args.Handle(engine, HandleKind.Engine, fn, "engine", out host);
        if (s != 0) return s;
        if (CallbackScope.IsInside(host))
        {
            return Guard.Fail(FolioStatus.InvalidState, $"{fn}: called from a callback of the same engine");
        }
        return 0;
    }

    private static int CheckPrompt(EngineHost host, int[] ids, SamplingParams sampling, string fn, string name) =>
        host.Model.CheckPrompt(ids, sampling.MaxTokens) is { } problem
            ? Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: {name}: {problem}")
            : 0;

    private static int Encode(EngineHost host, string text, bool addSpecial, string fn, string name, out int[] ids)
    {
        if (host.Model.TokenizerUnavailableReason is { } reason)
        {
            ids = [];
            return Guard.Fail(FolioStatus.Unsupported, $"{fn}: {reason}");
        }
        if (host.Model.TryEncode(text, addSpecial, out ids, out string error)) return 0;
        return Guard.Fail(FolioStatus.InvalidArgument, $"{fn}: {name}: {error}");
    }
}
