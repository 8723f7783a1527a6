using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Server;

/// <summary>One generated token's log-probabilities, as the OpenAI responses carry them.</summary>
internal readonly record struct TokenLogprobEntry(string Token, float Logprob, IReadOnlyList<(string Token, float Logprob)> Top);

/// <summary>
/// Turns a request's outputs into per-token logprobs for OpenAI's shapes (completions' <c>logprobs</c>, chat's
/// <c>logprobs.content</c>). The engine records the top-k list of each sampled token (<see cref="SamplingParams.Logprobs"/>)
/// and each sequence's cumulative log-probability, not the sampled token's own: it is the step's increase of the
/// cumulative one, since a step samples one token per sequence (the engine's outputs come one per step, in order).
/// One per HTTP request; keyed by choice index (prompt × n + sample).
/// </summary>
internal sealed class ChoiceLogprobs(IServedTokenizer tokenizer)
{
    // vLLM's stand-in for -inf, which JSON cannot carry.
    private const float NegativeInfinity = -9999f;
    private readonly Dictionary<int, double> _cumulative = [];
    private readonly Dictionary<int, int> _textOffset = [];
    private readonly Dictionary<int, List<TokenLogprobEntry>> _all = [];

    /// <summary>The entries of <paramref name="output"/>'s new tokens (also kept for <see cref="All"/>).</summary>
    public List<TokenLogprobEntry> Next(int choice, CompletionOutput output)
    {
        var ids = output.TokenIds;
        var entries = new List<TokenLogprobEntry>(ids.Count);
        if (ids.Count == 0) return entries;
        if (ids.Count != 1)
            throw new InvalidOperationException($"choice {choice}: {ids.Count} tokens in one step; the sampled logprob is known per step only");
        double before = _cumulative.GetValueOrDefault(choice);
        _cumulative[choice] = output.CumulativeLogProb;
        var top = output.Logprobs is { Count: > 0 } lists ? lists[0] : [];
        entries.Add(new TokenLogprobEntry(TextOf(ids[0]), Finite(output.CumulativeLogProb - before),
            [.. top.Select(t => (TextOf(t.TokenId), Finite(t.LogProb)))]));
        if (!_all.TryGetValue(choice, out var all)) _all[choice] = all = [];
        all.AddRange(entries);
        return entries;
    }

    /// <summary>Every entry of a choice so far (for a whole response).</summary>
    public IReadOnlyList<TokenLogprobEntry> All(int choice) => _all.TryGetValue(choice, out var all) ? all : [];

    /// <summary>Completions' shape: token strings, the sampled tokens' logprobs, the top ones (the sampled token
    /// included, as OpenAI's: up to k + 1 entries) and each token's offset in the choice's text.</summary>
    public CompletionLogprobs ToCompletion(int choice, IReadOnlyList<TokenLogprobEntry> entries)
    {
        int offset = _textOffset.GetValueOrDefault(choice);
        var result = new CompletionLogprobs([], [], [], []);
        foreach (var e in entries)
        {
            result.Tokens.Add(e.Token);
            result.TokenLogprobs.Add(e.Logprob);
            var top = new Dictionary<string, float>(e.Top.Count + 1);
            foreach (var (token, logprob) in e.Top) top.TryAdd(token, logprob);
            top.TryAdd(e.Token, e.Logprob);
            result.TopLogprobs.Add(top);
            result.TextOffset.Add(offset);
            offset += e.Token.Length;
        }
        _textOffset[choice] = offset;
        return result;
    }

    /// <summary>Chat's shape: per token its string, logprob, UTF-8 bytes and its top k alternatives.</summary>
    public static ChatLogprobs ToChat(IReadOnlyList<TokenLogprobEntry> entries) =>
        new([.. entries.Select(e => new ChatTokenLogprob(e.Token, e.Logprob, Bytes(e.Token),
            [.. e.Top.Select(t => new ChatTopLogprob(t.Token, t.Logprob, Bytes(t.Token)))]))]);

    private string TextOf(int tokenId) => tokenizer.Decode([tokenId]);

    private static List<int> Bytes(string token) => [.. System.Text.Encoding.UTF8.GetBytes(token).Select(b => (int)b)];

    private static float Finite(double logprob) => double.IsFinite(logprob) ? (float)logprob : NegativeInfinity;
}
