using Folio.Core.Sampling;

namespace Folio.Core.Tests.Sampling;

/// <summary>A constraint that allows exactly one token sequence, then EOS (its reference behaviour is obvious).</summary>
internal sealed class SequenceConstraint(int[] tokens, int eos) : ITokenConstraint
{
    private int _at;
    private bool _ended;

    public void ComputeMask(Span<ulong> mask)
    {
        mask.Clear();
        if (_ended)
            return;
        int next = _at < tokens.Length ? tokens[_at] : eos;
        mask[next >> 6] |= 1UL << (next & 63);
    }

    public bool Accept(int tokenId)
    {
        if (_ended)
            return false;
        if (_at < tokens.Length)
        {
            if (tokenId != tokens[_at])
                return false;
            _at++;
            return true;
        }
        if (tokenId != eos)
            return false;
        _ended = true;
        return true;
    }

    public bool IsTerminated => _ended;

    public ITokenConstraint Clone() => new SequenceConstraint(tokens, eos) { _at = _at, _ended = _ended };
}

/// <summary>A vocabulary of <paramref name="size"/> ids where "w&lt;i&gt;" encodes to id i and " w&lt;i&gt;" to i + 1
/// (a word-start token of its own, as byte-level BPE has); any other text is refused. Structured outputs allow
/// the tokens of <see cref="Sequence"/>.</summary>
internal sealed class FakeConstraintFactory(int size, int eos) : ITokenConstraintFactory
{
    public int[] Sequence { get; init; } = [1, 2, 3];

    public int VocabularySize => size;

    public int Creates { get; private set; }

    public ITokenConstraint Create(StructuredOutputs spec)
    {
        spec.Validate();
        if (spec.Regex == "(")
            throw new ArgumentException("structured_outputs.regex: unbalanced '(' at 0", nameof(SamplingParams.StructuredOutputs));
        Creates++;
        return new SequenceConstraint(Sequence, eos);
    }

    public IReadOnlyList<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var part in text.Split(' '))
        {
            if (part.Length == 0)
                continue;
            int id = int.Parse(part.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
            ids.Add(ids.Count == 0 && !text.StartsWith(' ') ? id : id + 1);
        }
        return ids;
    }
}
