namespace Folio.Core.Models;

/// <summary>The kinds of RoPE frequency scaling Folio computes; anything else is refused at load.</summary>
public enum RopeScalingKind
{
    /// <summary>Plain RoPE: inv_freq[i] = theta^(-2i/d).</summary>
    None,
    /// <summary>Llama-3 scaling: low frequencies divided by Factor, high ones kept, a smooth ramp between.</summary>
    Llama3,
    /// <summary>Each frequency divided by its own factor (<see cref="RopeScaling.FrequencyFactors"/>): a GGUF file's
    /// <c>rope_freqs</c> tensor, which llama.cpp's converter computes from a Llama-3 scaling.</summary>
    FrequencyFactors,
}

/// <summary>RoPE parameters of a model (<c>rope_theta</c> and <c>rope_scaling</c> / <c>rope_parameters</c>).</summary>
public sealed record RopeScaling(
    RopeScalingKind Kind,
    double Theta,
    double Factor = 1,
    double LowFreqFactor = 1,
    double HighFreqFactor = 4,
    int OriginalMaxPositionEmbeddings = 8192)
{
    /// <summary>
    /// The inverse frequencies of the rotary embedding, one per pair of dimensions (headDim / 2 of them),
    /// computed as Hugging Face does: theta^(-2i/d) in fp32, then the Llama-3 rescaling when configured (or, from a
    /// GGUF file, each divided by its frequency factor).
    /// </summary>
    /// <summary>The divisors of <see cref="RopeScalingKind.FrequencyFactors"/>, one per pair of dimensions.</summary>
    public float[]? FrequencyFactors { get; init; }

    public float[] InverseFrequencies(int headDim)
    {
        int half = headDim / 2;
        var inv = new float[half];
        for (int i = 0; i < half; i++)
        {
            // HF: 1.0 / (base ** (arange(0, dim, 2, dtype=int64).float() / dim)), in fp32.
            float exponent = (float)(2 * i) / headDim;
            inv[i] = 1.0f / MathF.Pow((float)Theta, exponent);
        }
        if (Kind == RopeScalingKind.Llama3)
            ApplyLlama3(inv);
        if (Kind == RopeScalingKind.FrequencyFactors)
        {
            // As ggml's rope with freq_factors: the plain frequency over the factor.
            if (FrequencyFactors is not { } factors || factors.Length != half)
                throw new InvalidOperationException($"{half} frequency factors are needed for head size {headDim}, there are {FrequencyFactors?.Length ?? 0}");
            for (int i = 0; i < half; i++)
                inv[i] /= factors[i];
        }
        return inv;
    }

    private void ApplyLlama3(float[] inv)
    {
        // Wavelengths longer than original_max / low_freq_factor are slowed by `factor`; shorter than
        // original_max / high_freq_factor are kept; in between, a linear blend on the smoothing coefficient.
        double lowFreqWavelen = OriginalMaxPositionEmbeddings / LowFreqFactor;
        double highFreqWavelen = OriginalMaxPositionEmbeddings / HighFreqFactor;
        for (int i = 0; i < inv.Length; i++)
        {
            float freq = inv[i];
            float wavelen = 2 * MathF.PI / freq;
            if (wavelen > lowFreqWavelen)
            {
                inv[i] = freq / (float)Factor;
            }
            else if (wavelen >= highFreqWavelen)
            {
                float smooth = (float)((OriginalMaxPositionEmbeddings / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor));
                inv[i] = (1 - smooth) * freq / (float)Factor + smooth * freq;
            }
        }
    }
}
