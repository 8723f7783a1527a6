namespace Folio.Core.Models;

/// <summary>
/// How one architecture departs from the decoder that <see cref="DecoderModel"/> runs: which attention
/// projections carry a bias, and whether queries and keys are normalised per head. Each architecture's definition
/// states its own (<see cref="LlamaModel.Variant"/>, <see cref="MistralModel.Variant"/>, <see cref="Qwen2Model.Variant"/>,
/// <see cref="Qwen3Model.Variant"/>).
/// </summary>
/// <param name="QkvBias">q/k/v projections have <c>.bias</c> tensors.</param>
/// <param name="OutputBias">the o projection has a <c>.bias</c> tensor.</param>
/// <param name="QkNorm">each query and key head is RMS-normalised before RoPE (<c>self_attn.q_norm.weight</c>,
/// <c>self_attn.k_norm.weight</c>, [head_dim] each; Qwen3).</param>
public sealed record DecoderVariant(bool QkvBias, bool OutputBias, bool QkNorm = false);
