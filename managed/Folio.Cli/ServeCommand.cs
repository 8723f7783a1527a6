using System.CommandLine;
using Folio.Core.Compute;
using Folio.Core.Models;
using Folio.Server;
using Microsoft.Extensions.Logging;

namespace Folio.Cli;

/// <summary><c>folio serve</c>: the OpenAI-compatible HTTP server (Folio.Server) over a CPU model.</summary>
public static class ServeCommand
{
    private const ulong KvBudgetBytes = 256UL << 20;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A Hugging Face folder, a GGUF file, a built-in model (tiny, b8, llama-1b, llama-8b), or fake (no compute: a deterministic stand-in with two-letter tokens aa..hh, for load tests and benchmark B10).", DefaultValueFactory = _ => "tiny" };
        var host = new Option<string>("--host") { Description = "Address to listen on (an IP address or localhost).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port (0 = any free port; the chosen one is printed).", DefaultValueFactory = _ => 8000 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1/* requests." };
        var servedName = new Option<string?>("--served-model-name") { Description = "The model name clients use (default: the model's)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var blocks = new Option<int>("--num-gpu-blocks") { Description = "KV cache blocks of 16 tokens (0 = 256 MiB worth).", DefaultValueFactory = _ => 0 };
        var maxSeqs = new Option<int>("--max-num-seqs") { DefaultValueFactory = _ => 64 };
        var maxWaiting = new Option<int>("--max-waiting") { Description = "Queued requests beyond which new ones get 429.", DefaultValueFactory = _ => 1024 };
        var seed = new Option<long>("--seed") { Description = "Seeds the built-in models' weights.", DefaultValueFactory = _ => 0 };
        var fakeCpuBlocks = new Option<int>("--fake-cpu-blocks") { Description = "--model fake: a CPU swap pool of this many blocks (preemption then swaps)." };
        var kvCacheDtype = QuantizationOption.CreateKvCacheDtype();
        var fakeStepMs = new Option<double>("--fake-step-ms") { Description = "--model fake: pause this long per engine step, as a model's forward pass would (0 = none)." };
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API.")
        {
            model, host, port, apiKey, servedName, threads, blocks, maxSeqs, maxWaiting, seed, kvCacheDtype, fakeStepMs, fakeCpuBlocks,
        };
        command.SetAction(r => Run(r.GetValue(model)!, new ServerOptions
        {
            Host = r.GetValue(host)!,
            Port = r.GetValue(port),
            ApiKey = r.GetValue(apiKey),
            MaxWaitingRequests = r.GetValue(maxWaiting),
        }, r.GetValue(servedName), r.GetValue(threads), r.GetValue(blocks), r.GetValue(maxSeqs), r.GetValue(seed),
            QuantizationOption.ParseKvCacheDtype(r.GetValue(kvCacheDtype)), r.GetValue(fakeStepMs), r.GetValue(fakeCpuBlocks)));
        return command;
    }

    private static int Run(string modelName, ServerOptions options, string? servedName, int threads, int blocks, int maxSeqs, long seed,
        DType kvCacheType, double fakeStepMs, int fakeCpuBlocks)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        if ((fakeStepMs != 0 || fakeCpuBlocks != 0) && modelName != "fake")
            throw new UsageException("--fake-step-ms and --fake-cpu-blocks apply to --model fake only");
        if (modelName == "fake")
        {
            // The fake model costs nothing to run: what a client sees is the engine's and the server's own work.
            if (fakeStepMs is < 0 or > 10_000) throw new UsageException($"--fake-step-ms must be in 0..10000, got {fakeStepMs}");
            if (fakeCpuBlocks is < 0 or > 1 << 20) throw new UsageException($"--fake-cpu-blocks must be in 0..1048576, got {fakeCpuBlocks}");
            var delay = TimeSpan.FromMilliseconds(fakeStepMs);
            var fake = FakeServedModel.Create(servedName ?? "fake", numGpuBlocks: blocks > 0 ? blocks : 8192, maxNumSeqs: maxSeqs, simulateKv: false,
                wrap: fakeStepMs > 0 ? e => new StepDelayExecutor(e, delay) : null, numCpuBlocks: fakeCpuBlocks);
            return RunServer(fake, options, CancellationToken.None).GetAwaiter().GetResult();
        }
        EngineStack stack;
        try
        {
            int numBlocks = blocks;
            if (numBlocks <= 0)
            {
                using var probe = ModelSource.Open(modelName, seed);
                long perBlock = Math.Max(1, EngineStack.CpuKvBytesPerToken(probe.Config, kvCacheType) * 16);
                numBlocks = (int)Math.Clamp((long)KvBudgetBytes / perBlock, 16, 1 << 16);
            }
            stack = new EngineStack(modelName, DeviceSelection.Cpu, threads, 16, numBlocks, 0, maxSeqs, 2048, true, seed,
                kvCacheType: kvCacheType);
        }
        catch (ModelFormatException e)
        {
            throw new UsageException(e.Message);
        }
        using (stack)
        {
            var source = stack.Source;
            var served = new ServedModel
            {
                Name = servedName ?? source.Name,
                Engine = stack.Engine,
                Tokenizer = new SourceTokenizer(source),
                MaxModelLen = source.Config.MaxPositionEmbeddings,
                VocabSize = source.Config.VocabSize,
                Defaults = source.DefaultSampling,
                WithModelStops = source.WithEosStops,
            };
            // Ctrl+C and SIGTERM stop the server through the host's console lifetime (FolioServer.WaitAsync).
            return RunServer(served, options, CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    private static async Task<int> RunServer(ServedModel served, ServerOptions options, CancellationToken stop)
    {
        var server = FolioServer.Create(served, options, LogLevel.Warning);
        await using (server.ConfigureAwait(false))
        {
            try
            {
                await server.StartAsync(stop).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new UsageException($"cannot listen on {options.Host}:{options.Port}: {e.Message}");
            }
            // Scripts wait for this line (and read the port from it when --port 0).
            Console.WriteLine($"folio serve: {served.Name} on {server.BaseAddress} (chat template: {(served.Engine.ChatTemplate is null ? "none" : "yes")})");
            await server.WaitAsync(stop).ConfigureAwait(false);
        }
        return ExitCodes.Ok;
    }

    /// <summary>The model folder's tokenizer; prompts are encoded as <c>folio generate</c> encodes them.</summary>
    private sealed class SourceTokenizer(ModelSource source) : IServedTokenizer
    {
        public int[] Encode(string text, bool addSpecialTokens)
        {
            var tokenizer = source.Tokenizer ?? throw new ArgumentException($"the model {source.Name} has no tokenizer: send token ids");
            return addSpecialTokens ? source.EncodePrompt(text) : [.. tokenizer.Encode(text, addSpecialTokens: false)];
        }

        public string Decode(ReadOnlySpan<int> ids) =>
            (source.Tokenizer ?? throw new ArgumentException($"the model {source.Name} has no tokenizer")).Decode(ids);
    }
}
