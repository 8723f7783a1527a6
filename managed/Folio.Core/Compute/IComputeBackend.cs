using Folio.Core.Models;
using Folio.Core.Sampling;

namespace Folio.Core.Compute;

/// <summary>
/// The operations a model needs, on tensors the backend owns (row-major, of a <see cref="DType"/>). One model
/// definition runs on every backend. A step is: <see cref="BeginStep"/> binds its metadata once (a GPU backend
/// uploads it), the layer ops take the returned <see cref="StepContext"/>, then <see cref="CreateSampler"/>'s
/// sampler turns the logits into token ids without them leaving the backend. Scratch belongs to the backend and
/// the model's workspace, sized once for the largest step: a steady step allocates nothing and touches fixed
/// addresses (capturable in a CUDA graph). Rows are independent: every op computes each row of its output from
/// the same row of its inputs alone, in a fixed order, so a sequence's results do not depend on what else is in
/// the batch. Shapes and dtypes are checked by the backend (ArgumentException on a caller bug).
/// </summary>
public interface IComputeBackend : IDisposable
{
    string Name { get; }

    /// <summary>A zeroed [rows, cols] tensor.</summary>
    DeviceTensor Allocate(int rows, int cols);
    /// <summary>A tensor of <see cref="ActivationType"/> holding <paramref name="data"/> (rounded to that type once):
    /// norm weights, biases, the embedding table.</summary>
    DeviceTensor Upload(ReadOnlySpan<float> data, int rows, int cols);

    /// <summary>As <see cref="Upload"/>, kept in fp32 whatever the backend computes in (the rotary frequencies, which
    /// lose positions' precision in 16 bits).</summary>
    DeviceTensor UploadFloat32(ReadOnlySpan<float> data, int rows, int cols) => Upload(data, rows, cols);

    /// <summary>The element type of activations, 16-bit-or-not weights after upload and the KV cache: what the model
    /// computes in on this backend (the CPU backend: <see cref="DType.F32"/>).</summary>
    DType ActivationType => DType.F32;

    /// <summary>The element type of the model's KV cache (<see cref="ActivationType"/> unless the backend was configured
    /// otherwise: the CPU backend can keep bf16 K and V beside fp32 activations).</summary>
    DType KvCacheType => ActivationType;

    /// <summary>A [outFeatures, inFeatures] weight (as checkpoints store it) for <see cref="MatMul"/>; the backend
    /// may keep it in its own layout, so only MatMul reads it.</summary>
    DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures);

    /// <summary>As <see cref="UploadWeight(ReadOnlySpan{float}, int, int)"/>, told the element type the checkpoint
    /// stored (<paramref name="data"/> holds exactly those values, widened to fp32), so that a backend can keep
    /// 16-bit weights 16-bit, or quantize them as it was configured to. A backend without such formats keeps fp32.</summary>
    DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures, DType sourceType) =>
        UploadWeight(data, outFeatures, inFeatures);

    /// <summary>As <see cref="UploadWeight(ReadOnlySpan{float}, int, int, DType)"/>, also told that the checkpoint
    /// stored the weight block-quantized in a format that <paramref name="exact"/> reproduces bit for bit (a GGUF
    /// Q4_0 tensor is int4's values), so that a backend with that format keeps the checkpoint's bits and size
    /// even when it was configured not to quantize.</summary>
    DeviceTensor UploadWeight(ReadOnlySpan<float> data, int outFeatures, int inFeatures, DType sourceType, WeightQuantization exact) =>
        UploadWeight(data, outFeatures, inFeatures, sourceType);

    /// <summary>A MatMul weight that is the checkpoint's bytes in place: <paramref name="parts"/> (each [rows, in],
    /// row-major, in a read-only file mapping) stacked by rows, as q/k/v or gate/up are fused. A backend that can
    /// read them where they are takes ownership of the parts (disposing the weight disposes them) and returns the
    /// weight; null means it cannot (another dtype, a quantizing backend, a device that needs a copy), the parts
    /// stay the caller's, and the caller uploads a copy instead.</summary>
    DeviceTensor? UploadMappedWeight(IReadOnlyList<Models.MappedTensor> parts) => null;

    /// <summary>A MatMul weight kept in llama.cpp's k-quant blocks as the file stores them (<paramref name="parts"/>
    /// stacked by rows; their formats may differ, as in a fused q/k/v whose v is Q6_K). Null means the backend
    /// does not keep them (no kernels, or it quantizes every weight its own way): the caller reads fp32 instead.</summary>
    DeviceTensor? UploadKQuantWeight(IReadOnlyList<KQuantRows> parts) => null;

    /// <summary>Whether <see cref="UploadInt8GroupWeight"/> keeps int8 groups (asked before they are read, since
    /// reading them converts the whole tensor).</summary>
    bool TakesInt8Groups => false;

    /// <summary>A MatMul weight held as int8 groups with exactly the checkpoint's values (<paramref name="parts"/>
    /// stacked by rows); null means the backend does not (no int8 kernels, or it quantizes every weight its own way):
    /// the caller reads fp32 instead.</summary>
    DeviceTensor? UploadInt8GroupWeight(IReadOnlyList<Int8GroupRows> parts) => null;

    /// <summary>Whether <paramref name="table"/>, a table this backend uploaded, also serves as a MatMul weight: then a
    /// model with tied embeddings multiplies by it instead of uploading the same values again as its lm_head.</summary>
    bool MultipliesTable(DeviceTensor table) => false;

    /// <summary>The embedding table held as int8 groups (looked up row by row, d · q per value: the values an fp32
    /// copy would hold); null: the caller reads fp32.</summary>
    DeviceTensor? UploadInt8GroupTable(Int8GroupRows table) => null;

    /// <summary>The embedding table kept in its k-quant blocks (looked up row by row); null: the caller reads fp32.</summary>
    DeviceTensor? UploadKQuantTable(KQuantRows table) => null;

    /// <summary>The embedding table in place, as <see cref="UploadMappedWeight"/> (ownership passes on success); only
    /// <see cref="Embedding"/> reads it. Null: the caller uploads a copy.</summary>
    DeviceTensor? UploadMappedTable(Models.MappedTensor table) => null;

    /// <summary>A MatMul weight read piece by piece through <paramref name="read"/> (stored type
    /// <paramref name="sourceType"/>), so that a backend that converts weights at load (quantizes them) never holds
    /// the whole fp32 tensor; null where the backend would keep the values as they are (the caller then uploads
    /// them whole).</summary>
    DeviceTensor? UploadWeightRows(int outFeatures, int inFeatures, DType sourceType, WeightRowReader read) => null;
    void Download(DeviceTensor source, Span<float> destination);

    /// <summary>A zeroed paged cache; a backend refuses (ArgumentException) a dtype or layout it has no kernels for.</summary>
    DeviceKvCache AllocateKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim,
        DType dtype = DType.F32, KvCacheLayout layout = KvCacheLayout.Nhd);

    /// <summary>The swap pool: a cache of the same block format in host memory, for <see cref="MoveBlocks"/> to and
    /// from the device cache (the CPU backend's caches are host memory already).</summary>
    DeviceKvCache AllocateHostKvCache(int numLayers, int numBlocks, int blockSizeTokens, int numKvHeads, int headDim,
        DType dtype = DType.F32, KvCacheLayout layout = KvCacheLayout.Nhd) =>
        AllocateKvCache(numLayers, numBlocks, blockSizeTokens, numKvHeads, headDim, dtype, layout);

    /// <summary>Binds one step's metadata (token ids, positions, slot mapping, query starts, context lengths,
    /// block tables, logits rows: <paramref name="input"/>, usually pointing at the step plan's arrays) and the
    /// cache it runs against, checking it once. Returns the backend's reused context: valid until the next call.</summary>
    StepContext BeginStep(ModelInput input, DeviceKvCache cache);

    /// <summary>The sampler for an executor on this backend; it owns its scratch on the backend.</summary>
    ISampler CreateSampler(SamplerSettings settings);

    /// <summary>output[r] = table[step token r].</summary>
    void Embedding(DeviceTensor table, StepContext step, DeviceTensor output);

    /// <summary>output[r] = input[r] / sqrt(mean(input[r]²) + eps) × weight (weight is [1, cols]).</summary>
    void RmsNorm(DeviceTensor input, DeviceTensor weight, float eps, DeviceTensor output);

    /// <summary>output[r, o] = Σ_i input[r, i] · weight[o, i] (+ bias[o]); weight comes from <see cref="UploadWeight"/>.</summary>
    void MatMul(DeviceTensor input, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output);

    /// <summary>The join of a pre-norm decoder layer: target += addend (the residual connection, rounded to the
    /// activation type), then output = RmsNorm(target) as <see cref="RmsNorm"/>. <paramref name="output"/> may be
    /// <paramref name="addend"/>.</summary>
    void AddRmsNorm(DeviceTensor target, DeviceTensor addend, DeviceTensor weight, float eps, DeviceTensor output);

    /// <summary>gateUp is [rows, 2F] = [gate | up]; output[r, f] = silu(gate[r, f]) · up[r, f].</summary>
    void SiluAndMul(DeviceTensor gateUp, DeviceTensor output);

    /// <summary>Qwen3's q_norm and k_norm, in place: each query head of each row of <paramref name="qkv"/> ([rows,
    /// QkvCols]) becomes RmsNorm(head) × <paramref name="queryWeight"/>, each key head RmsNorm(head) ×
    /// <paramref name="keyWeight"/> (both [HeadDim], shared by the heads; the norm as <see cref="RmsNorm"/>'s over one
    /// head's HeadDim values); the value heads stay as they are. Runs before <see cref="RotateAndCache"/>.</summary>
    void HeadRmsNorm(DeviceTensor qkv, AttentionShape shape, DeviceTensor queryWeight, DeviceTensor keyWeight, float eps);

    /// <summary>RoPE and the KV write of one layer: rotates the Q and K heads of each row of <paramref name="qkv"/>
    /// (rotate-half layout) by the step's position of the row, angle = position × inverseFrequencies[i] (a [1,
    /// HeadDim / 2] fp32 tensor), and writes the rotated K and the V of row r into the step's slot r of the layer's
    /// cache. Returns the rotated queries for <see cref="PagedAttention"/>: <paramref name="qkv"/> itself (rotated in
    /// place: the CPU backend) or a [rows, NumHeads × HeadDim] scratch tensor of the backend's (valid until the next
    /// call), as the backend's kernels prefer.</summary>
    DeviceTensor RotateAndCache(DeviceTensor qkv, AttentionShape shape, StepContext step, DeviceTensor inverseFrequencies,
        int layer);

    /// <summary>Causal attention of each row's query heads (<paramref name="queries"/>, as
    /// <see cref="RotateAndCache"/> returned them) over its sequence's cached K/V (read through the step's block
    /// tables, including this step's tokens, written first by RotateAndCache); output is [rows, NumHeads ×
    /// HeadDim]. With <paramref name="slidingWindow"/> W &gt; 0 a row at position p attends to positions
    /// max(0, p − W + 1) .. p only; 0 = every earlier position.</summary>
    void PagedAttention(DeviceTensor queries, AttentionShape shape, StepContext step, int layer, float scale,
        int slidingWindow, DeviceTensor output);

    /// <summary>output[j] = input[the step's logits row j].</summary>
    void GatherRows(DeviceTensor input, StepContext step, DeviceTensor output);

    /// <summary>Copies whole blocks (all layers, K and V) within one cache: copy-on-write. <paramref name="pairs"/>
    /// are (src, dst) block ids, as the step plan and <c>folio_block_copy</c> hold them.</summary>
    void CopyBlocks(DeviceKvCache cache, ReadOnlySpan<int> pairs);

    /// <summary>Copies whole blocks from one cache to another of the same block format (swap out: device → host
    /// cache; swap in: host → device); <paramref name="pairs"/> are (src in <paramref name="from"/>, dst in
    /// <paramref name="to"/>) block ids.</summary>
    void MoveBlocks(DeviceKvCache from, DeviceKvCache to, ReadOnlySpan<int> pairs);
}
