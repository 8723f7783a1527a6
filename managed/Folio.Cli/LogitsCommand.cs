using System.CommandLine;
using System.Text.Json;
using Folio.Core.Engine;
using Folio.Core.Models;

namespace Folio.Cli;

/// <summary><c>folio logits --model DIR --tokens FILE.json --out FILE</c>: the logits of every position of each
/// token sequence (teacher-forced, one prefill each), for parity checks against a reference implementation. The
/// output is raw little-endian fp32: for each sequence in order, [its length × vocab_size] values.</summary>
public static class LogitsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A Hugging Face folder, a GGUF file or a built-in model.", Required = true };
        var tokens = new Option<string>("--tokens") { Description = "A JSON file holding a list of token-id lists.", Required = true };
        var output = new Option<string>("--out") { Description = "File to write (raw fp32, sequence after sequence).", Required = true };
        var device = DeviceOption.CreateDevice();
        var dtype = DeviceOption.CreateDtype();
        var command = new Command("logits", "Write the teacher-forced logits of token sequences (parity checks).")
        {
            model, tokens, output, device, dtype,
        };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(tokens)!, r.GetValue(output)!,
            DeviceOption.Parse(r.GetValue(device), r.GetValue(dtype))));
        return command;
    }

    private static int Run(string modelName, string tokensFile, string outFile, DeviceSelection device)
    {
        int[][] sequences;
        try
        {
            sequences = JsonSerializer.Deserialize(File.ReadAllText(tokensFile), TokenListsJsonContext.Default.Int32ArrayArray)
                ?? throw new UsageException($"--tokens {tokensFile}: null");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new UsageException($"--tokens {tokensFile}: {e.Message}");
        }
        if (sequences.Length == 0 || sequences.Any(s => s is null || s.Length == 0))
            throw new UsageException($"--tokens {tokensFile}: give a non-empty list of non-empty token-id lists");
        using ILoadedModel loaded = DeviceErrors.OpenOrUsageError<ILoadedModel>(device, () => device.Cuda
            ? Folio.Cuda.Backend.CudaModel.Open(modelName, device.ActivationType, 0, Folio.Cuda.Backend.CudaModel.DefaultMemoryUtilization, false)
            : Folio.Cpu.CpuModel.Open(modelName, 0, 0));
        int vocab = loaded.Config.VocabSize;
        foreach (var s in sequences)
            foreach (int t in s)
                if ((uint)t >= (uint)vocab)
                    throw new UsageException($"token {t} is outside the vocabulary (size {vocab})");
        using var scorer = new TeacherForcedLogits(loaded.Model, sequences.Max(s => s.Length));
        using var file = new FileStream(outFile, FileMode.Create, FileAccess.Write);
        foreach (var s in sequences)
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(scorer.Compute(s).AsSpan()));
        Console.WriteLine($"wrote the logits of {sequences.Length} sequences ({loaded.BackendName}, vocab {vocab}) to {outFile}");
        return ExitCodes.Ok;
    }
}
