using Folio.Core.Engine;
using Folio.Core.Models;
using Folio.Core.Sampling;
using Folio.Core.Text;

namespace Folio.Interop.Hosts;

/// <summary>
/// What folio_engine_create needs of a loaded model: its vocabulary (tokenize/detokenize), the text decoder the
/// scheduler streams with, and an executor sized to the engine's KV pools. Adapters over the managed models.
/// </summary>
public interface IEngineModel
{
    string Name { get; }
    int VocabSize { get; }
    int EosTokenId { get; }
    /// <summary>generation_config.json (<see cref="GenerationConfig.None"/> when the model has none).</summary>
    GenerationConfig Generation { get; }
    /// <summary>Null when the model has no tokenizer (then stop strings and text outputs are unavailable).</summary>
    ITextDecoder? TextDecoder { get; }

    /// <summary>The model's chat template; null when it has none (folio_engine_apply_chat_template: UNSUPPORTED).</summary>
    ChatTemplate? ChatTemplate { get; }

    /// <summary>Why text cannot be tokenized (FOLIO_STATUS_UNSUPPORTED), or null when it can.</summary>
    string? TokenizerUnavailableReason { get; }

    /// <summary>Token ids of <paramref name="text"/>, or false with the reason.</summary>
    bool TryEncode(string text, bool addSpecialTokens, out int[] ids, out string error);

    string Decode(ReadOnlySpan<int> ids);

    /// <summary>A request's sampling controls as the model completes them: its EOS ids after the first become
    /// stop token ids (what the CLI and transformers' generate stop on).</summary>
    SamplingParams WithModelStops(SamplingParams samplingParams);

    /// <summary>Why a prompt cannot run on this model (longer than its context), or null.</summary>
    string? CheckPrompt(ReadOnlySpan<int> promptIds, int maxTokens);

    /// <summary>GPU blocks that <paramref name="kvMemoryBytes"/> (0 = the backend default, after the largest step
    /// the limits allow) holds.</summary>
    int BlocksFor(ulong kvMemoryBytes, int blockSizeTokens, int maxNumBatchedTokens, int maxNumSeqs);

    IModelExecutor CreateExecutor(EngineOptions options, long seed);

    /// <summary>Where the model runs and how, for the engine-created log line: the backend and, on the CPU, the
    /// MatMul kernels its weights took ("… (Vector512 …)" or "(Vector256 …)": which build of libfolio is running
    /// shows there). Empty for models without a backend.</summary>
    string Backend => "";

    /// <summary>Structured outputs and bad words over the model's tokenizer; null (the default) refuses them.</summary>
    ITokenConstraintFactory? TokenConstraints => null;
}
