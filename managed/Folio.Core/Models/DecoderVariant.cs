namespace Folio.Core.Models;

/// <summary>
/// How one architecture departs from the decoder that <see cref="DecoderModel"/> runs: which attention
/// projections carry a bias, and whether queries and keys are normalised per head. Each architecture's definition
/// states its own (<see cref="LlamaModel.Variant"/>, <see cref="MistralModel.Variant"/>, <see cref="Qwen2Model.Variant"/>,
/// <see cref="Qwen3Model.Variant"/>, <see cref="Phi3Model.Variant"/>).
/// </summary>
/// <param name="QkvBias">q/k/v projections have <c>.bias</c> tensors.</param>
/// <param name="OutputBias">the o projection has a <c>.bias</c> tensor.</param>
/// <param name="QkNorm">each query and key head is RMS-normalised before RoPE (<c>self_attn.q_norm.weight</c>,
/// <c>self_attn.k_norm.weight</c>, [head_dim] each; Qwen3).</param>
/// <param name="FusedProjections">the checkpoint stores q/k/v as one <c>self_attn.qkv_proj.weight</c> ([q; k; v] rows)
/// and gate/up as one <c>mlp.gate_up_proj.weight</c> ([gate; up] rows), the layout Folio fuses them into (Phi-3).</param>
public sealed record DecoderVariant(bool QkvBias, bool OutputBias, bool QkNorm = false, bool FusedProjections = false);
