using System.CommandLine;
using Folio.Core.Models;
using Folio.Core.Sampling;

namespace Folio.Cli;

/// <summary><c>folio generate --model DIR|tiny --prompt TEXT</c>: streams the completion as it is produced.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A Hugging Face folder, a GGUF file or a built-in model (tiny, b8, llama-1b, llama-8b; also as builtin:NAME; an existing folder of that name wins).", DefaultValueFactory = _ => "tiny" };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text.", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 0.8f };
        var topP = new Option<float>("--top-p") { DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 0 };
        var minP = new Option<float>("--min-p") { DefaultValueFactory = _ => 0f };
        var seed = new Option<long?>("--seed");
        var n = new Option<int>("--n") { DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var quantization = QuantizationOption.Create();
        var noMmap = QuantizationOption.CreateNoMmap();
        var kvCacheDtype = QuantizationOption.CreateKvCacheDtype();
        var device = DeviceOption.CreateDevice();
        var dtype = DeviceOption.CreateDtype();
        var command = new Command("generate", "Generate text with a model on the CPU or a GPU, streaming it.")
        {
            model, prompt, maxTokens, temperature, topP, topK, minP, seed, n, threads, quantization, noMmap, kvCacheDtype, device, dtype,
        };
        var structured = new StructuredOutputOptions();
        structured.AddTo(command);
        command.SetAction(r =>
        {
            // The model's generation_config.json fills what the command line leaves unset.
            T? Given<T>(Option<T> o) where T : struct => r.GetResult(o) is { Implicit: false } ? r.GetValue(o) : null;
            SamplingParams Sampling(SamplingParams defaults) => defaults with
            {
                MaxTokens = Given(maxTokens) ?? defaults.MaxTokens,
                Temperature = Given(temperature) ?? defaults.Temperature,
                TopP = Given(topP) ?? defaults.TopP,
                TopK = Given(topK) ?? defaults.TopK,
                MinP = Given(minP) ?? defaults.MinP,
                Seed = r.GetValue(seed),
                N = r.GetValue(n),
                StructuredOutputs = structured.Read(r),
            };
            var baseline = new SamplingParams
            {
                MaxTokens = r.GetValue(maxTokens), Temperature = r.GetValue(temperature), TopP = r.GetValue(topP),
                TopK = r.GetValue(topK), MinP = r.GetValue(minP),
            };
            return Run(r.GetValue(model)!, r.GetValue(prompt)!, s => Sampling(s.DefaultSampling(baseline)), r.GetValue(threads),
                QuantizationOption.Parse(r.GetValue(quantization)), DeviceOption.Parse(r.GetValue(device), r.GetValue(dtype)),
                !r.GetValue(noMmap), QuantizationOption.ParseKvCacheDtype(r.GetValue(kvCacheDtype)));
        });
        return command;
    }

    private static int Run(string modelName, string prompt, Func<ModelSource, SamplingParams> buildSampling, int threads,
        Folio.Core.Compute.WeightQuantization quantization, DeviceSelection device, bool mapWeights, Folio.Core.Compute.DType kvCacheType)
    {
        EngineStack stack;
        SamplingParams sampling;
        try
        {
            // Enough blocks for every sample of the prompt and its completion, block size 16.
            int maxLength;
            using (var probe = ModelSource.Open(modelName))
            {
                maxLength = probe.Config.MaxPositionEmbeddings;
                sampling = buildSampling(probe);
            }
            try
            {
                sampling.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }
            int blocks = sampling.N * ((Math.Min(maxLength, 4096) + 15) / 16) + 8;
            stack = new EngineStack(modelName, device, threads, 16, blocks, 0, Math.Max(8, sampling.N), 2048, true, sampling.Seed ?? 0,
                quantization, mapWeights, kvCacheType);
        }
        catch (ModelFormatException e)
        {
            throw new UsageException(e.Message);
        }
        catch (Exception e) when (device.Cuda && DeviceErrors.IsDeviceError(e))
        {
            throw new UsageException($"--device cuda: {e.Message}");
        }
        using (stack)
        {
            _ = stack.Source.Tokenizer
                ?? throw new UsageException($"{modelName}: no tokenizer (tokenizer.json missing and the vocabulary is not GPT-2's)");
            int[] ids = stack.Source.EncodePrompt(prompt);
            if (PromptLimits.Check(stack.Config, ids, sampling.MaxTokens) is { } problem)
                throw new UsageException(problem);
            var engine = stack.Engine;
            Folio.Core.Engine.RequestStream requestStream;
            try
            {
                requestStream = engine.Submit(ids, sampling);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);   // a bad schema, regex or grammar, named by the engine
            }
            bool stream = sampling.N == 1;
            foreach (var step in requestStream.ReadAll())
            {
                // Each step's text delta (stop-string hold-back applied by the engine).
                if (stream && step.Outputs.Count > 0 && step.Outputs[0].Text.Length > 0)
                {
                    Console.Out.Write(step.Outputs[0].Text);
                    Console.Out.Flush();
                }
            }
            var output = requestStream.Completion.Result;
            if (stream)
            {
                Console.Out.WriteLine();
            }
            else
            {
                foreach (var o in output.Outputs)
                    Console.Out.WriteLine($"[{o.Index}] {o.Text}");
            }
            string kv = stack.CpuBackend?.KvCacheType == Folio.Core.Compute.DType.BF16 ? ", bf16 KV cache" : "";
            Console.Error.WriteLine($"({ids.Length} prompt tokens, {output.Outputs.Sum(o => o.TokenIds.Count)} generated, {stack.BackendName}{kv})");
        }
        return ExitCodes.Ok;
    }
}
