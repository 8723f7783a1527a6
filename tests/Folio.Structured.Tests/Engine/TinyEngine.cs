using Folio.Core.Engine;
using Folio.Core.KvCache;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Folio.Cpu;

namespace Folio.Structured.Tests.Engine;

/// <summary>
/// The built-in tiny model (random weights, GPT-2's real tokenizer) in an engine with structured outputs: random
/// weights produce nothing valid on their own, so every valid output is the constraint's doing. Shared by the tests
/// of a class (opening the model and building the token trie once).
/// </summary>
public sealed class TinyEngine : IDisposable
{
    private readonly CpuModel _model;
    private readonly ModelExecutor _executor;

    public TinyEngine()
    {
        _model = CpuModel.Open("tiny", threads: 2, seed: 7);
        _executor = _model.CreateExecutor(NumBlocks, 0, 16, seed: 7);
        Tokenizer = _model.Source.Tokenizer!;
        Factory = new GrammarConstraintFactory(Tokenizer, _model.EosTokenId);
        Engine = new LlmEngine(new EngineOptions
        {
            KvCache = new KvCacheOptions { NumGpuBlocks = NumBlocks, BlockSizeTokens = 16 },
            Scheduler = new SchedulerOptions { MaxNumSeqs = 64, MaxNumBatchedTokens = 2048, EosTokenId = _model.EosTokenId },
            TokenConstraints = Factory,
        }, _executor, new IncrementalDetokenizer(Tokenizer));
        Closers = ClosingTokens(Tokenizer);
    }

    private const int NumBlocks = 4096;

    public LlmEngine Engine { get; }
    public TextTokenizer Tokenizer { get; }
    public GrammarConstraintFactory Factory { get; }
    public int EosTokenId => _model.EosTokenId;

    /// <summary>
    /// A logit bias toward tokens made only of JSON's closing characters (and EOS): random weights put ~1/50,000 on
    /// a closing quote, so strings would run to max_tokens. The bias changes which allowed token is likely, never
    /// which is allowed (the mask is applied first).
    /// </summary>
    public IReadOnlyDictionary<int, float> Closers { get; }

    public int[] Prompt(string text) => [.. Tokenizer.Encode(text)];

    private Dictionary<int, float> ClosingTokens(TextTokenizer t)
    {
        var bias = new Dictionary<int, float> { [_model.EosTokenId] = 12f };
        for (int id = 0; id < t.VocabularySize; id++)
        {
            if (t.TokenBytes(id) is { Length: > 0 } bytes && bytes.All(b => b is (byte)'"' or (byte)'}' or (byte)']' or (byte)','))
                bias[id] = 12f;
        }
        return bias;
    }

    public void Dispose()
    {
        _executor.Dispose();
        _model.Dispose();
    }
}
