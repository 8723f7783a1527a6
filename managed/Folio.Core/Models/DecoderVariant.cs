namespace Folio.Core.Models;

/// <summary>
/// How one architecture departs from the decoder that <see cref="DecoderModel"/> runs: which attention
/// projections carry a bias. Each architecture's definition states its own (<see cref="LlamaModel.Variant"/>,
/// <see cref="MistralModel.Variant"/>, <see cref="Qwen2Model.Variant"/>).
/// </summary>
/// <param name="QkvBias">q/k/v projections have <c>.bias</c> tensors.</param>
/// <param name="OutputBias">the o projection has a <c>.bias</c> tensor.</param>
public sealed record DecoderVariant(bool QkvBias, bool OutputBias);
