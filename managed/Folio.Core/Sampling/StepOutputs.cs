namespace Folio.Core.Sampling;

/// <summary>
/// What the executor returns for a step: per scheduled sequence (by its index in the plan), the sampled tokens
/// (as many as its NumSamples) or its beam candidates (most likely first). Owned by the executor and reused;
/// valid until its next step. Entries are filled in plan order.
/// </summary>
public sealed class StepOutputs
{
    private int[] _start = new int[64];
    private int[] _count = new int[64];
    private SampledToken[] _samples = new SampledToken[64];
    private TokenLogprob[] _top = new TokenLogprob[64];
    private int _numEntries;
    private int _numSamples;
    private int _numTop;

    public int NumEntries => _numEntries;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<SampledToken> SamplesOf(int entry)
    {
        if ((uint)entry >= (uint)_numEntries)
            ThrowNoEntry(entry);
        return _samples.AsSpan(_start[entry], _count[entry]);
    }

    private void ThrowNoEntry(int entry)
        => throw new ArgumentOutOfRangeException(nameof(entry), entry, $"the outputs hold {_numEntries} entries.");

    public ReadOnlySpan<TokenLogprob> TopLogprobs => _top.AsSpan(0, _numTop);

    public ReadOnlySpan<TokenLogprob> TopLogprobsOf(SampledToken sample) => _top.AsSpan(sample.TopStart, sample.TopCount);

    /// <summary>Starts a new step with no entries.</summary>
    public void Clear()
    {
        _numEntries = 0;
        _numSamples = 0;
        _numTop = 0;
    }

    /// <summary>Opens the next entry (plan order); samples added next belong to it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void BeginEntry()
    {
        if (_numEntries == _start.Length)
            GrowEntries();
        _start[_numEntries] = _numSamples;
        _count[_numEntries] = 0;
        _numEntries++;
    }

    private void GrowEntries()
    {
        Array.Resize(ref _start, _start.Length * 2);
        Array.Resize(ref _count, _count.Length * 2);
    }

    /// <summary>Adds a sample (or candidate) without top log-probabilities to the current entry (the common case).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void AddSample(int tokenId, float logProb)
    {
        int e = _numEntries - 1;
        if (e < 0)
            throw new InvalidOperationException("BeginEntry must be called before AddSample.");
        if (_numSamples == _samples.Length)
            Array.Resize(ref _samples, _samples.Length * 2);
        _samples[_numSamples++] = new SampledToken(tokenId, logProb, _numTop, 0);
        _count[e]++;
    }

    /// <summary>Adds a sample (or candidate) to the current entry; <paramref name="top"/> are its top log-probabilities.</summary>
    public void AddSample(int tokenId, float logProb, ReadOnlySpan<TokenLogprob> top = default)
    {
        if (_numEntries == 0)
            throw new InvalidOperationException("BeginEntry must be called before AddSample.");
        if (_numSamples == _samples.Length)
            Array.Resize(ref _samples, _samples.Length * 2);
        if (_numTop + top.Length > _top.Length)
            Array.Resize(ref _top, Math.Max(_top.Length * 2, _numTop + top.Length));
        top.CopyTo(_top.AsSpan(_numTop));
        _samples[_numSamples++] = new SampledToken(tokenId, logProb, _numTop, top.Length);
        _numTop += top.Length;
        _count[_numEntries - 1]++;
    }
}
