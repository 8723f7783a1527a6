using System.Runtime.CompilerServices;
using System.Text;
using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// One sequence of a request: its tokens (prompt, then generated), how many of them have K/V computed, its
/// block table while it holds blocks, and its outputs. A request with n &gt; 1 or beam search owns several.
/// Mutated only by the scheduler (under the engine's lock); readers see it between steps.
/// </summary>
public sealed class Sequence
{
    private int[] _tokens;
    private SequenceText? _text;
    private List<TokenLogprob[]>? _logprobs;
    private SequenceConstraint? _constraint;

    internal Sequence(long id, int index, Request request, ReadOnlySpan<int> tokens, int capacity)
    {
        Id = id;
        Index = index;
        Request = request;
        Group = request.Group;
        Alone = Group.N == 1 && !Group.UseBeamSearch;
        Stops = Group.Stops;
        NumLogprobs = Group.NumLogprobs;
        RequestId = Group.RequestId;
        _tokens = new int[Math.Max(capacity, tokens.Length)];
        tokens.CopyTo(_tokens);
        NumTokens = tokens.Length;
        LastToken = tokens.IsEmpty ? -1 : tokens[^1];
        PromptLength = request.PromptLength;
        if (request.Constraints?.Grammar is { } grammar)
            _constraint = new SequenceConstraint(grammar.Clone(), request.Constraints.MaskWords);
    }

    /// <summary>Engine-unique id (stable for the sequence's life).</summary>
    public long Id { get; }

    /// <summary>Sample index within the request: sequence i draws from the random stream (seed, i).</summary>
    public int Index { get; }

    public Request Request { get; }

    /// <summary>The request's sequences and books (the step reads them through here, not through the request).</summary>
    internal SequenceGroup Group { get; }

    // Copies of the group's fixed parameters that the step reads for every sequence, so that the common decode
    // (the request's only sequence) reads the sequence and its table and leaves the group object alone: at ~1,000
    // running sequences each object the step touches per sequence is a cache miss.

    /// <summary>The request's only sequence for life (n = 1, no beam search): it samples one token per step and its
    /// group's live count is 1 while it runs.</summary>
    internal readonly bool Alone;
    internal readonly StopRules Stops;
    internal readonly int NumLogprobs;
    internal readonly long RequestId;

    public int NumTokens { get; private set; }
    public int PromptLength { get; }
    public int NumGenerated => NumTokens - PromptLength;

    /// <summary>Prompt then generated token ids.</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, NumTokens);
    public ReadOnlySpan<int> GeneratedTokens => _tokens.AsSpan(PromptLength, NumGenerated);

    /// <summary>The newest token (-1 when there is none): what a decode step computes, read without touching the
    /// token array (one cache line fewer per running sequence and step).</summary>
    internal int LastToken { get; private set; }

    /// <summary>Tokens whose K/V is computed (or scheduled for this step); the rest are computed next.</summary>
    public int NumComputedTokens { get; internal set; }

    /// <summary>The sequence's blocks while running (GPU) or swapped (CPU); null otherwise.</summary>
    public BlockTable? Table { get; internal set; }

    /// <summary>The table this sequence's blocks go into when it is admitted, made with the sequence (so that
    /// admission allocates nothing inside a step); reused after a recompute preemption freed it.</summary>
    internal BlockTable? ReservedTable { get; set; }

    /// <summary>Its prefix-cache lookups' state: block hashes computed once, extended as the sequence grows.</summary>
    internal PrefixProbe? Probe { get; set; }

    public SequenceStatus Status { get; internal set; }
    public FinishReason FinishReason { get; internal set; }

    /// <summary>The stop string or stop token id that ended the sequence (null for EOS, length, abort).</summary>
    public string? StopReason { get; internal set; }

    public double CumulativeLogProb { get; internal set; }

    /// <summary>Beam score (cumulative log-probability / length^length_penalty) of a finished beam.</summary>
    public double BeamScore { get; internal set; }

    public bool IsFinished => Status == SequenceStatus.Finished;

    /// <summary>
    /// Decoded output text (empty when the engine has no text decoder); a matched stop string is trimmed. Written
    /// only by the engine's output processor (the scheduler works on tokens), read between steps.
    /// </summary>
    public string OutputText => _text?.Builder.ToString() ?? "";

    /// <summary>Per generated token, its top log-probabilities (when the request asked for logprobs).</summary>
    public IReadOnlyList<TokenLogprob[]>? Logprobs => _logprobs;

    internal StringBuilder Text => (_text ??= new SequenceText()).Builder;

    /// <summary>Characters of <see cref="Text"/> already handed out as deltas (the rest is held back while a stop
    /// string could still begin in it).</summary>
    internal int EmittedChars
    {
        get => _text?.EmittedChars ?? 0;
        set => (_text ??= new SequenceText()).EmittedChars = value;
    }

    internal string EmittedText => _text is null ? "" : _text.Builder.ToString(0, _text.EmittedChars);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Append(int token)
    {
        if (NumTokens == _tokens.Length)
            Array.Resize(ref _tokens, _tokens.Length * 2);
        _tokens[NumTokens++] = token;
        LastToken = token;
        // The one place a structured output advances: every appended token, whoever sampled it.
        _constraint?.Accept(token);
    }

    /// <summary>The structured output's state (null when the request has none).</summary>
    internal SequenceConstraint? Constraint => _constraint;

    internal void AddLogprobs(TokenLogprob[] top) => (_logprobs ??= []).Add(top);

    /// <summary>A copy sharing nothing mutable: same tokens, computed count, outputs so far; no table.</summary>
    internal Sequence CloneAs(long id, int index)
    {
        var s = new Sequence(id, index, Request, Tokens, _tokens.Length)
        {
            NumComputedTokens = NumComputedTokens,
            Status = Status,
            CumulativeLogProb = CumulativeLogProb,
        };
        if (_text is not null)
            s._text = _text.Clone();
        if (_logprobs is not null)
            s._logprobs = [.. _logprobs];
        s._constraint = _constraint?.Clone();
        return s;
    }

    public override string ToString() => $"seq {Id} (request {Request.Id}, index {Index}, {Status}, {NumComputedTokens}/{NumTokens} computed)";
}
