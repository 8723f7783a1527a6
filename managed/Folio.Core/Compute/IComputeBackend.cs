namespace Folio.Core.Compute;

/// <summary>
/// The operations a model needs, on tensors the backend owns (fp32, row-major). One model definition runs on
/// every backend. Rows are independent: every op computes each row of its output from the same row of its
/// inputs alone, in a fixed order, so a sequence's results do not depend on what else is in the batch.
/// Shapes are checked by the backend (ArgumentException on a caller bug).
/// </summary>
public interface IComputeBackend : IDisposable
{
    string Name { get; }

    /// <summary>A zeroed [rows, cols] tensor.</summary>
    DeviceTensor Allocate(int rows, int cols);
    DeviceTensor Upload(ReadOnlySpan<float> data, int rows, int cols);

    /// <summary>A [outFeatures, inFeatures] weight (as checkpoints store it) for <see cref="MatMul"/>; the backend
    /// may keep it in its own layout, so only MatMul reads it.</summary>
    DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures);

    /// <summary>As <see cref="UploadWeight(ReadOnlySpan{float}, int, int)"/>, told the element type the checkpoint
    /// stored (<paramref name="data"/> holds exactly those values, widened to fp32), so that a backend can keep
    /// 16-bit weights 16-bit, or quantize them as it was configured to. A backend without such formats keeps fp32.</summary>
    DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures, DType sourceType) =>
        UploadWeight(data, outFeatures, inFeatures);
    void Download(DeviceTensor source, Span<float> destination);
    DeviceKvCache AllocateKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim);

    /// <summary>output[r] = table[tokenIds[r]].</summary>
    void Embedding(DeviceTensor table, ReadOnlySpan<int> tokenIds, DeviceTensor output);

    /// <summary>output[r] = input[r] / sqrt(mean(input[r]²) + eps) × weight (weight is [1, cols]).</summary>
    void RmsNorm(DeviceTensor input, DeviceTensor weight, float eps, DeviceTensor output);

    /// <summary>output[r, o] = Σ_i input[r, i] · weight[o, i] (+ bias[o]); weight comes from <see cref="UploadWeight"/>.</summary>
    void MatMul(DeviceTensor input, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output);

    /// <summary>target += addend (the residual connection).</summary>
    void Add(DeviceTensor target, DeviceTensor addend);

    /// <summary>gateUp is [rows, 2F] = [gate | up]; output[r, f] = silu(gate[r, f]) · up[r, f].</summary>
    void SiluAndMul(DeviceTensor gateUp, DeviceTensor output);

    /// <summary>Rotates the Q and K heads of <paramref name="qkv"/> in place (rotate-half layout), row r at
    /// positions[r], angle = position × inverseFrequencies[i].</summary>
    void Rope(DeviceTensor qkv, AttentionShape shape, ReadOnlySpan<int> positions, ReadOnlySpan<float> inverseFrequencies);

    /// <summary>Writes the K and V of row r of <paramref name="qkv"/> into slot slotMapping[r] of the layer's cache.</summary>
    void WriteKv(DeviceTensor qkv, AttentionShape shape, DeviceKvCache cache, int layer, ReadOnlySpan<long> slotMapping);

    /// <summary>Causal attention of each row's query heads over its sequence's cached K/V (read through its block
    /// table, including this step's tokens, written first by <see cref="WriteKv"/>); output is [rows, NumHeads × HeadDim].
    /// With <paramref name="slidingWindow"/> W &gt; 0 a row at position p attends to positions max(0, p − W + 1) .. p
    /// only; 0 = every earlier position.</summary>
    void PagedAttention(DeviceTensor qkv, AttentionShape shape, DeviceKvCache cache, int layer, AttentionBatch batch,
        float scale, int slidingWindow, DeviceTensor output);

    /// <summary>output[j] = input[rows[j]].</summary>
    void GatherRows(DeviceTensor input, ReadOnlySpan<int> rows, DeviceTensor output);

    /// <summary>Copies whole blocks (all layers, K and V) within one cache: copy-on-write.</summary>
    void CopyBlocks(DeviceKvCache cache, ReadOnlySpan<int> sources, ReadOnlySpan<int> destinations);

    /// <summary>Copies whole blocks from one cache to another of the same geometry: swap out / swap in.</summary>
    void MoveBlocks(DeviceKvCache from, DeviceKvCache to, ReadOnlySpan<int> sources, ReadOnlySpan<int> destinations);
}
