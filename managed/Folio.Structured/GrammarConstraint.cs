using Folio.Core.Sampling;

namespace Folio.Structured;

/// <summary>Core's per-sequence <see cref="ITokenConstraint"/> over a <see cref="GrammarMatcher"/>.</summary>
internal sealed class GrammarConstraint(GrammarMatcher matcher) : ITokenConstraint
{
    public void ComputeMask(Span<ulong> mask) => matcher.ComputeMask(mask);

    public bool Accept(int tokenId) => matcher.Accept(tokenId);

    public bool IsTerminated => matcher.IsTerminated;

    public ITokenConstraint Clone() => new GrammarConstraint(matcher.Clone());
}
