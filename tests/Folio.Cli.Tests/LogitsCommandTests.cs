using System.Text.Json;
using Folio.Core.Models;

namespace Folio.Cli.Tests;

/// <summary><c>folio logits</c>: the teacher-forced logits of token sequences, here on the CPU against the HF fixture's
/// own (the GPU parity test reads the same output on the device).</summary>
public class LogitsCommandTests
{
    [Fact]
    public void Logits_OfTheFixturePrompts_MatchHuggingFace()
    {
        string dir = GenerateCommandTests.FixtureFolder("llama3_rope");
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
        int[][] prompts = reference.RootElement.GetProperty("prompts").EnumerateArray()
            .Select(p => p.EnumerateArray().Select(t => t.GetInt32()).ToArray()).ToArray();
        string tokens = Path.GetTempFileName(), output = Path.GetTempFileName();
        try
        {
            File.WriteAllText(tokens, JsonSerializer.Serialize(prompts));
            var (code, stdout, error) = CliRun.Folio("logits", "--model", dir, "--tokens", tokens, "--out", output);
            Assert.True(code == ExitCodes.Ok, error);
            Assert.Contains($"the logits of {prompts.Length} sequences", stdout);
            byte[] bytes = File.ReadAllBytes(output);
            using var expected = SafetensorsFile.Open(Path.Combine(dir, "logits.safetensors"));
            long at = 0;
            for (int i = 0; i < prompts.Length; i++)
            {
                var info = expected.Tensors[$"prompt{i}"];
                var want = new float[info.ElementCount];
                expected.ReadFloat32(info, want);
                var got = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)at, want.Length * 4));
                float maxAbs = want.Max(Math.Abs), maxDiff = 0;
                for (int j = 0; j < want.Length; j++)
                    maxDiff = Math.Max(maxDiff, Math.Abs(got[j] - want[j]));
                Assert.True(maxDiff / maxAbs < 1e-4, $"prompt {i}: relative error {maxDiff / maxAbs:E3}");
                at += want.Length * 4L;
            }
            Assert.Equal(at, bytes.Length);
        }
        finally
        {
            File.Delete(tokens);
            File.Delete(output);
        }
    }

    [Theory]
    [InlineData("[]", "give a non-empty list")]
    [InlineData("[[1, 2], []]", "give a non-empty list")]
    [InlineData("{\"a\": 1}", "--tokens")]
    [InlineData("[[1, 99999]]", "token 99999 is outside the vocabulary (size 512)")]
    public void BadTokenFiles_AreRefused(string json, string message)
    {
        string dir = GenerateCommandTests.FixtureFolder("llama3_rope");
        string tokens = Path.GetTempFileName();
        try
        {
            File.WriteAllText(tokens, json);
            var (code, _, error) = CliRun.Folio("logits", "--model", dir, "--tokens", tokens, "--out", tokens + ".out");
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains(message, error);
            Assert.False(File.Exists(tokens + ".out"));
        }
        finally
        {
            File.Delete(tokens);
        }
    }
}
