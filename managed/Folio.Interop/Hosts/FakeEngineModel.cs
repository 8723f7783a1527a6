using Folio.Core.Engine;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Text;

namespace Folio.Interop.Hosts;

/// <summary>
/// "builtin:fake": the scheduler's deterministic <see cref="FakeExecutor"/> behind the ABI, so hosts and tests
/// can drive the whole engine without model weights. Its vocabulary is the 64 two-letter pieces of
/// <see cref="FakeTextDecoder"/> ("aa".."hh"; id = first letter + 8 × second letter); it has no EOS.
/// </summary>
public sealed class FakeEngineModel : IEngineModel
{
    public const int Vocab = 64;
    private const int DefaultBlocks = 4096;

    public string Name => "builtin:fake";
    public int VocabSize => Vocab;
    public int EosTokenId => -1;
    public GenerationConfig Generation => GenerationConfig.None;
    public ITextDecoder? TextDecoder { get; } = new FakeTextDecoder();
    public string? TokenizerUnavailableReason => null;
    public ChatTemplate? ChatTemplate => null;

    public bool TryEncode(string text, bool addSpecialTokens, out int[] ids, out string error)
    {
        ids = [];
        error = "";
        if (text.Length % 2 != 0)
        {
            error = $"the fake model's text is pairs of letters a..h; got {text.Length} characters (odd)";
            return false;
        }
        var result = new int[text.Length / 2];
        for (int i = 0; i < result.Length; i++)
        {
            int first = text[2 * i] - 'a', second = text[2 * i + 1] - 'a';
            if ((uint)first >= 8 || (uint)second >= 8)
            {
                error = $"the fake model's text is pairs of letters a..h; got '{text.Substring(2 * i, 2)}' at character {2 * i}";
                return false;
            }
            result[i] = first + 8 * second;
        }
        ids = result;
        return true;
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var builder = new System.Text.StringBuilder(ids.Length * 2);
        foreach (int id in ids) builder.Append(FakeTextDecoder.TextOf(id));
        return builder.ToString();
    }

    public string? CheckPrompt(ReadOnlySpan<int> promptIds, int maxTokens) => null;

    public SamplingParams WithModelStops(SamplingParams samplingParams) => samplingParams;

    public int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs) => DefaultBlocks;

    public IModelExecutor CreateExecutor(EngineOptions options, long seed) => new FakeExecutor(new FakeExecutorOptions
    {
        NumGpuBlocks = options.KvCache.NumGpuBlocks,
        NumCpuBlocks = options.KvCache.NumCpuBlocks,
        BlockSizeTokens = options.KvCache.BlockSizeTokens,
        VocabSize = Vocab,
        EosTokenId = -1,
        DefaultSeed = seed,
    });
}
