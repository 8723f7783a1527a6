"""Converts a Llama Hugging Face folder with an F32 model.safetensors (what `folio model init --shape b8` writes)
to a GGUF F32 file, with llama.cpp's own gguf-py writer, the way convert_hf_to_gguf.py does for Llama: the same
tensor names, q/k rows permuted from rotate-half to ggml's interleaved RoPE order, 1-D tensors F32. A Qwen3 folder
(tests/fixtures/hf/qwen3) is converted as its Qwen3Model does it: architecture qwen3, no permutation, q_norm/k_norm
as attn_q_norm/attn_k_norm, head_dim as key/value length, no output.weight when the embeddings are tied.

Why not convert_hf_to_gguf.py itself: it needs PyTorch and transformers (Debian has no transformers) and a
tokenizer, and Folio's seeded models have none. So the vocabulary written here is a synthetic SentencePiece one
of the model's vocab_size: <unk>, <s>, </s>, the 256 byte tokens, then pieces "▁tN". Both engines are fed
random token ids in the benchmark, so the vocabulary only has to exist and have the right size.

    PYTHONPATH=LLAMA_CPP/gguf-py python3 bench/hf_to_gguf_f32.py FOLDER OUT.gguf      # needs python3-numpy
"""
import json
import os
import struct
import sys

import numpy as np
import gguf


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
    data = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            sys.exit(f"{path}: tensor '{name}' is {info['dtype']}; this converter reads F32 folders (folio model init --dtype fp32)")
        a, b = info["data_offsets"]
        out[name] = data[base + a:base + b].view(np.float32).reshape(info["shape"])
    return out


def permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute: rotate-half rows to ggml's interleaved rope order."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main(folder, out_path):
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    arch = {"LlamaForCausalLM": "llama", "Qwen3ForCausalLM": "qwen3"}.get(c.get("architectures", ["?"])[0])
    if arch is None:
        sys.exit(f"{folder}: only LlamaForCausalLM and Qwen3ForCausalLM folders are converted, this is {c.get('architectures')}")
    t = read_safetensors(os.path.join(folder, "model.safetensors"))
    heads, kv, vocab = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"]), c["vocab_size"]
    hidden = c["hidden_size"]
    head_dim = c.get("head_dim") or hidden // heads
    theta = c.get("rope_theta") or (c.get("rope_parameters") or {}).get("rope_theta", 10000.0)

    w = gguf.GGUFWriter(out_path, arch)
    w.add_name(os.path.basename(os.path.normpath(folder)))
    w.add_block_count(c["num_hidden_layers"]); w.add_context_length(c["max_position_embeddings"])
    w.add_embedding_length(hidden); w.add_feed_forward_length(c["intermediate_size"])
    w.add_head_count(heads); w.add_head_count_kv(kv); w.add_rope_dimension_count(head_dim)
    if arch == "qwen3":
        w.add_key_length(head_dim); w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(c["rms_norm_eps"]); w.add_rope_freq_base(theta)
    w.add_vocab_size(vocab); w.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    tokens += [f"\u2581t{i}" for i in range(vocab - len(tokens))]
    types += [gguf.TokenType.NORMAL] * (vocab - len(types))
    w.add_tokenizer_model("llama"); w.add_tokenizer_pre("default")
    w.add_token_list(tokens); w.add_token_scores([-float(i) for i in range(vocab)]); w.add_token_types(types)
    w.add_bos_token_id(c.get("bos_token_id", 1)); w.add_eos_token_id(c.get("eos_token_id", 2))
    w.add_add_bos_token(True)

    part = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
            "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
            "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
            "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm"}
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    for i in range(c["num_hidden_layers"]):
        for hf, gg in part.items():
            names[f"model.layers.{i}.{hf}.weight"] = f"blk.{i}.{gg}.weight"
    for name, a in t.items():
        if name not in names:
            sys.exit(f"{folder}: tensor '{name}' has no GGUF name here")
        a = np.asarray(a, dtype=np.float32)
        if arch == "llama" and ".q_proj." in name:
            a = permute(a, heads)
        elif arch == "llama" and ".k_proj." in name:
            a = permute(a, kv)
        w.add_tensor(names[name], np.ascontiguousarray(a))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
