using Folio.Core.Compute;

namespace Folio.Core.Models;

/// <summary>
/// The decoder that Llama, Mistral, Qwen2, Qwen3 and Phi-3 share, over <see cref="IComputeBackend"/>. Per layer, with h the
/// residual stream:
/// <code>
///   a   = RMSNorm(h) ;  q,k,v = a·Wqᵀ(+bq), a·Wkᵀ(+bk), a·Wvᵀ(+bv)   (one fused GEMM)
///  (q,k = RMSNorm of each head with q_norm, k_norm                    (Qwen3))
///   q,k = RoPE(q, k, position) ;  cache[slot] = k, v
///   h  += Attention(q, cache through the block table; causal, GQA) · Woᵀ (+bo)
///   m   = RMSNorm(h) ;  h += (silu(m·Wgateᵀ) ⊙ m·Wupᵀ) · Wdownᵀ      (gate and up fused)
/// logits = RMSNorm(h) · Wlm_headᵀ   (Wlm_head = embed_tokens when tie_word_embeddings)
/// </code>
/// Weights use Hugging Face's names (<c>model.layers.N.self_attn.q_proj.weight</c> …). What differs between
/// the architectures is stated in their own definitions (<see cref="LlamaModel"/>, <see cref="MistralModel"/>,
/// <see cref="Qwen2Model"/>, <see cref="Qwen3Model"/>, <see cref="Phi3Model"/>) as <see cref="DecoderVariant"/>: which
/// projections carry a bias, whether heads are normalised, whether the checkpoint stores them fused (the attention
/// window is the config's, <see cref="ModelConfig.AttentionWindow"/>). <see cref="Load"/> picks the definition from <c>config.json</c>'s
/// <c>architectures</c>.
/// </summary>
public abstract class DecoderModel : IDisposable
{
    private readonly IComputeBackend _backend;
    private readonly DeviceTensor _embedding;
    private readonly DeviceTensor _lmHead;
    private readonly DeviceTensor _finalNorm;
    private readonly Layer[] _layers;
    private readonly DeviceTensor _inverseFrequencies;
    private readonly AttentionShape _shape;
    private readonly float _scale;
    private readonly ForwardWorkspace _workspace;

    private sealed record Layer(DeviceTensor InputNorm, DeviceTensor Qkv, DeviceTensor? QkvBias, DeviceTensor? QNorm,
        DeviceTensor? KNorm, DeviceTensor O, DeviceTensor? OBias, DeviceTensor PostNorm, DeviceTensor GateUp, DeviceTensor Down);

    public ModelConfig Config { get; }

    /// <summary>Reads and checks every weight (names and shapes from the config and the variant), uploading
    /// them to the backend; on failure nothing stays uploaded.</summary>
    private protected DecoderModel(ModelConfig config, IWeightSource weights, IComputeBackend backend, DecoderVariant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        Config = config;
        _backend = backend;
        (_embedding, _lmHead, _finalNorm, _layers) = LoadWeights(config, weights, backend, variant);
        _shape = new AttentionShape(config.NumHeads, config.NumKvHeads, config.HeadDim);
        _scale = 1f / MathF.Sqrt(config.HeadDim);
        float[] frequencies = config.Rope.InverseFrequencies(config.HeadDim);
        _inverseFrequencies = backend.UploadFloat32(frequencies, 1, frequencies.Length);
        _workspace = new ForwardWorkspace(backend, config, _shape);
    }

    /// <summary>The definition <c>config.json</c>'s architecture names, loaded (every weight read and checked).</summary>
    public static DecoderModel Load(ModelConfig config, IWeightSource weights, IComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Architecture switch
        {
            ModelArchitecture.Llama => LlamaModel.Load(config, weights, backend),
            ModelArchitecture.Mistral => MistralModel.Load(config, weights, backend),
            ModelArchitecture.Qwen2 => Qwen2Model.Load(config, weights, backend),
            ModelArchitecture.Qwen3 => Qwen3Model.Load(config, weights, backend),
            ModelArchitecture.Phi3 => Phi3Model.Load(config, weights, backend),
            _ => throw new ModelFormatException($"config: architecture {config.Architecture} has no definition"),
        };
    }

    /// <summary>The check every definition's Load makes before reading weights: <paramref name="config"/> names
    /// <paramref name="architecture"/> (else a caller bug). Everything a file can say wrongly was refused when
    /// <see cref="ModelConfig"/> parsed it.</summary>
    private protected static void EnsureLoadable(ModelConfig config, ModelArchitecture architecture, string definition)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Architecture != architecture)
            throw new ArgumentException($"{definition} cannot load a {config.Architecture} configuration", nameof(config));
    }

    /// <summary>The bias and norm tensors the architecture's definition expects.</summary>
    public static DecoderVariant VariantOf(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Architecture switch
        {
            ModelArchitecture.Llama => LlamaModel.Variant(config),
            ModelArchitecture.Mistral => MistralModel.Variant,
            ModelArchitecture.Qwen2 => Qwen2Model.Variant,
            ModelArchitecture.Qwen3 => Qwen3Model.Variant(config),
            ModelArchitecture.Phi3 => Phi3Model.Variant,
            _ => throw new ModelFormatException($"config: architecture {config.Architecture} has no definition"),
        };
    }

    private static (DeviceTensor Embedding, DeviceTensor LmHead, DeviceTensor FinalNorm, Layer[] Layers) LoadWeights(
        ModelConfig config, IWeightSource weights, IComputeBackend backend, DecoderVariant variant)
    {
        var c = config;
        long hidden = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim, ffn = c.IntermediateSize;
        var uploaded = new List<DeviceTensor>();
        DeviceTensor Weight(params (string Name, long[] Shape)[] parts) => LoadParts(parts, weight: true);
        DeviceTensor Tensor(params (string Name, long[] Shape)[] parts) => LoadParts(parts, weight: false);
        DeviceTensor LoadParts((string Name, long[] Shape)[] parts, bool weight)
        {
            try
            {
                return UploadParts(parts, weight);
            }
            catch (ArgumentException e) when (e is not ArgumentNullException)
            {
                // The shapes were checked against the config before: a backend refusing the values (a NaN or an infinity
                // no 16-bit panel holds, a corrupt scale) is refusing the file's content.
                throw new ModelFormatException($"tensor '{string.Join("' + '", parts.Select(p => p.Name))}': {e.Message}", e);
            }
        }
        DeviceTensor UploadParts((string Name, long[] Shape)[] parts, bool weight)
        {
            // Several checkpoint tensors stacked by rows into one backend tensor (fused q/k/v, gate/up);
            // a 1-D tensor (norm weight, bias) is one row.
            long cols = parts[0].Shape[^1];
            long rows = parts.Sum(p => p.Shape[0]);
            bool vector = parts.All(p => p.Shape.Length == 1);
            // The parts' stored type when they agree (fused q/k/v of one checkpoint do), else fp32 (exact for all).
            var stored = parts.Select(p => weights.StoredType(p.Name)).Distinct().ToArray();
            var storedType = stored.Length == 1 ? stored[0] : DType.F32;
            // Likewise an exact quantized format (GGUF Q8_0/Q4_0) only when every part has it: rows stack, groups
            // run along k, so the fused tensor is still exactly that format.
            var exact = parts.Select(p => weights.ExactQuantization(p.Name)).Distinct().ToArray();
            var exactType = exact.Length == 1 ? exact[0] : WeightQuantization.None;
            // First choice: the checkpoint's bytes in place (no copy; the backend says whether it can use them).
            // Then, for a backend that converts weights at load, the tensor streamed in pieces. Else one fp32 copy.
            DeviceTensor? t = vector || exactType != WeightQuantization.None ? null : Mapped(parts, weight);
            if (t is null && !vector)
                t = KQuant(parts, weight);
            if (t is null && !vector && backend.TakesInt8Groups)
                t = Int8Groups(parts, weight);
            if (t is null && weight && !vector && exactType == WeightQuantization.None && weights.ReadsRows)
                t = backend.UploadWeightRows((int)rows, (int)cols, storedType, (first, destination) => ReadStacked(parts, first, destination));
            if (t is null)
            {
                var data = new float[checked(parts.Sum(p => p.Shape.Aggregate(1L, (x, y) => x * y)))];
                int at = 0;
                foreach (var (name, shape) in parts)
                {
                    int count = (int)shape.Aggregate(1L, (x, y) => x * y);
                    weights.Read(name, shape, data.AsSpan(at, count));
                    at += count;
                }
                t = vector ? backend.Upload(data, 1, data.Length)
                    : weight ? backend.UploadWeight(data, (int)rows, (int)cols, storedType, exactType)
                    : backend.Upload(data, (int)rows, (int)cols);
            }
            uploaded.Add(t);
            return t;
        }
        DeviceTensor? Mapped((string Name, long[] Shape)[] parts, bool weight)
        {
            if (!weight && parts.Length != 1)
                return null;
            var mapped = new List<MappedTensor>();
            try
            {
                foreach (var (name, shape) in parts)
                {
                    var m = weights.Map(name, shape);
                    if (m is null)
                        break;
                    mapped.Add(m);
                }
                var t = mapped.Count < parts.Length ? null
                    : weight ? backend.UploadMappedWeight(mapped) : backend.UploadMappedTable(mapped[0]);
                if (t is not null)
                    mapped.Clear();   // the backend's now
                return t;
            }
            finally
            {
                foreach (var m in mapped)
                    m.Dispose();
            }
        }
        DeviceTensor? KQuant((string Name, long[] Shape)[] parts, bool weight)
        {
            if (!weight && parts.Length != 1)
                return null;
            // Every part must be k-quant (GGUF Q4_K/Q5_K/Q6_K), else the fused weight takes the fp32 path.
            var blocks = new List<KQuantRows>();
            foreach (var (name, shape) in parts)
            {
                if (shape.Length != 2 || weights.ReadKQuant(name, shape) is not { } b)
                    return null;
                blocks.Add(b);
            }
            return weight ? backend.UploadKQuantWeight(blocks) : backend.UploadKQuantTable(blocks[0]);
        }
        DeviceTensor? Int8Groups((string Name, long[] Shape)[] parts, bool weight)
        {
            if (!weight && parts.Length != 1)
                return null;
            // Every part must have the exact int8 form (GGUF Q5_0/IQ4_NL/IQ4_XS), else the fused weight takes the fp32 path.
            var groups = new List<Int8GroupRows>();
            foreach (var (name, shape) in parts)
            {
                if (shape.Length != 2 || weights.ReadInt8Groups(name, shape) is not { } g)
                    return null;
                groups.Add(g);
            }
            return weight ? backend.UploadInt8GroupWeight(groups) : backend.UploadInt8GroupTable(groups[0]);
        }
        void ReadStacked((string Name, long[] Shape)[] parts, int firstRow, Span<float> destination)
        {
            long cols = parts[0].Shape[^1];
            long begin = firstRow, end = firstRow + destination.Length / cols, partStart = 0;
            foreach (var (name, shape) in parts)
            {
                long partEnd = partStart + shape[0];
                long from = Math.Max(begin, partStart), to = Math.Min(end, partEnd);
                if (from < to)
                    weights.ReadRows(name, shape, from - partStart,
                        destination.Slice((int)((from - begin) * cols), (int)((to - from) * cols)));
                partStart = partEnd;
            }
        }
        try
        {
            var embedding = Tensor(("model.embed_tokens.weight", [c.VocabSize, hidden]));
            DeviceTensor lmHead;
            if (weights.Contains("lm_head.weight") && !c.TieWordEmbeddings)
                lmHead = Weight(("lm_head.weight", [c.VocabSize, hidden]));
            else if (c.TieWordEmbeddings)
                lmHead = backend.MultipliesTable(embedding)
                    ? embedding   // already in a MatMul layout (a GGUF table kept quantized): one copy serves both
                    : Weight(("model.embed_tokens.weight", [c.VocabSize, hidden]));   // the same values, in the MatMul layout
            else
                throw new ModelFormatException("tensor 'lm_head.weight' is missing and config.json does not set tie_word_embeddings");
            var layers = new Layer[c.NumLayers];
            for (int i = 0; i < c.NumLayers; i++)
            {
                string p = $"model.layers.{i}.";
                layers[i] = new Layer(
                    InputNorm: Tensor((p + "input_layernorm.weight", [hidden])),
                    Qkv: variant.FusedProjections
                        ? Weight((p + "self_attn.qkv_proj.weight", [q + 2 * kv, hidden]))
                        : Weight((p + "self_attn.q_proj.weight", [q, hidden]), (p + "self_attn.k_proj.weight", [kv, hidden]),
                            (p + "self_attn.v_proj.weight", [kv, hidden])),
                    QkvBias: variant.QkvBias
                        ? Tensor((p + "self_attn.q_proj.bias", [q]), (p + "self_attn.k_proj.bias", [kv]), (p + "self_attn.v_proj.bias", [kv]))
                        : null,
                    QNorm: variant.QkNorm ? Tensor((p + "self_attn.q_norm.weight", [c.HeadDim])) : null,
                    KNorm: variant.QkNorm ? Tensor((p + "self_attn.k_norm.weight", [c.HeadDim])) : null,
                    O: Weight((p + "self_attn.o_proj.weight", [hidden, q])),
                    OBias: variant.OutputBias ? Tensor((p + "self_attn.o_proj.bias", [hidden])) : null,
                    PostNorm: Tensor((p + "post_attention_layernorm.weight", [hidden])),
                    GateUp: variant.FusedProjections
                        ? Weight((p + "mlp.gate_up_proj.weight", [2 * ffn, hidden]))
                        : Weight((p + "mlp.gate_proj.weight", [ffn, hidden]), (p + "mlp.up_proj.weight", [ffn, hidden])),
                    Down: Weight((p + "mlp.down_proj.weight", [hidden, ffn])));
            }
            var finalNorm = Tensor(("model.norm.weight", [hidden]));
            return (embedding, lmHead, finalNorm, layers);
        }
        catch
        {
            foreach (var t in uploaded)
                t.Dispose();
            throw;
        }
    }

    /// <summary>A KV cache shaped for this model.</summary>
    public DeviceKvCache CreateKvCache(int numBlocks, int blockSizeTokens) =>
        _backend.AllocateKvCache(Config.NumLayers, numBlocks, blockSizeTokens, Config.NumKvHeads, Config.HeadDim,
            _backend.KvCacheType);

    /// <summary>A swap pool in host memory with the block format of <see cref="CreateKvCache"/>.</summary>
    public DeviceKvCache CreateHostKvCache(int numBlocks, int blockSizeTokens) =>
        _backend.AllocateHostKvCache(Config.NumLayers, numBlocks, blockSizeTokens, Config.NumKvHeads, Config.HeadDim,
            _backend.KvCacheType);

    /// <summary>Runs the batch on the host's terms: begins a step for <paramref name="input"/> on the backend,
    /// runs <see cref="Forward(StepContext)"/>, and downloads the logits of input.LogitRows as
    /// [NumLogitRows × VocabSize] into <paramref name="logits"/> (tests and references; an engine samples on the
    /// backend instead).</summary>
    public void Forward(ModelInput input, DeviceKvCache cache, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(input);
        int m = input.NumLogitRows;
        if (logits.Length != m * Config.VocabSize)
            throw new ArgumentException($"logits holds {logits.Length} floats, needs {m} × {Config.VocabSize}");
        var result = Forward(_backend.BeginStep(input, cache));
        if (m > 0)
            _backend.Download(result, logits);
    }

    /// <summary>Runs the step (begun on this model's backend), writing its K/V into the step's cache, and returns
    /// the logits of the step's logits rows, [NumLogitsRows, VocabSize], in the backend's memory. The tensor is the
    /// model's workspace: valid until the next forward pass (one pass at a time per model).</summary>
    public DeviceTensor Forward(StepContext step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var c = Config;
        var cache = step.Cache;
        if (cache.NumLayers != c.NumLayers)
            throw new ArgumentException($"the step's cache has {cache.NumLayers} layers, the model {c.NumLayers}", nameof(step));
        cache.RequireHeads(_shape, "Forward");
        foreach (int p in step.Positions)
            if ((uint)p >= (uint)c.MaxPositionEmbeddings)
                throw new ArgumentException($"position {p} is beyond max_position_embeddings ({c.MaxPositionEmbeddings})");
        int n = step.NumTokens;
        int m = step.NumLogitsRows;

        _workspace.Prepare(n, m);
        var h = _workspace.Hidden;
        var a = _workspace.Scratch;
        var qkv = _workspace.Qkv;
        var attention = _workspace.Attention;
        var gateUp = _workspace.GateUp;
        var act = _workspace.Activation;

        _backend.Embedding(_embedding, step, h);
        // Each residual add is fused with the norm after it; a layer's MLP output (a) joins h at the next layer's
        // input norm, and the last layer's only in the logits rows, after they are gathered.
        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            if (l == 0)
                _backend.RmsNorm(h, layer.InputNorm, c.RmsNormEps, a);
            else
                _backend.AddRmsNorm(h, a, layer.InputNorm, c.RmsNormEps, a);
            _backend.MatMul(a, layer.Qkv, layer.QkvBias, qkv);
            if (layer.QNorm is not null)
                _backend.HeadRmsNorm(qkv, _shape, layer.QNorm, layer.KNorm!, c.RmsNormEps);
            var queries = _backend.RotateAndCache(qkv, _shape, step, _inverseFrequencies, l);
            _backend.PagedAttention(queries, _shape, step, l, _scale, c.AttentionWindow(l), attention);
            _backend.MatMul(attention, layer.O, layer.OBias, a);
            _backend.AddRmsNorm(h, a, layer.PostNorm, c.RmsNormEps, a);
            _backend.MatMul(a, layer.GateUp, null, gateUp);
            _backend.SiluAndMul(gateUp, act);
            _backend.MatMul(act, layer.Down, null, a);
        }
        if (m == 0)
            return _workspace.Logits;
        _backend.GatherRows(h, step, _workspace.Last);
        _backend.GatherRows(a, step, _workspace.Normed);
        _backend.AddRmsNorm(_workspace.Last, _workspace.Normed, _finalNorm, c.RmsNormEps, _workspace.Normed);
        _backend.MatMul(_workspace.Normed, _lmHead, null, _workspace.Logits);
        return _workspace.Logits;
    }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        _workspace.Dispose();
        _embedding.Dispose();
        if (!ReferenceEquals(_lmHead, _embedding))
            _lmHead.Dispose();
        _finalNorm.Dispose();
        _inverseFrequencies.Dispose();
        foreach (var l in _layers)
        {
            l.InputNorm.Dispose(); l.Qkv.Dispose(); l.QkvBias?.Dispose(); l.QNorm?.Dispose(); l.KNorm?.Dispose(); l.O.Dispose(); l.OBias?.Dispose();
            l.PostNorm.Dispose(); l.GateUp.Dispose(); l.Down.Dispose();
        }
    }
}
