"""Writes a Qwen3 Hugging Face folder (F32 safetensors, random weights) for bench/qwen3_vs_llamacpp.sh: head_dim 128
beside a hidden size of 256 (4 query heads, 2 KV heads), q/k norm weights spread around 1 (std 0.3) so that skipping
them shows, linear weights with std 1/sqrt(fan_in) and an untied lm_head so that the next-token distributions are soft
(perplexity in the thousands, as b8's) rather than one-hot (where KL magnifies fp32 rounding).

    python3 bench/make_qwen3_folder.py OUT_FOLDER        # needs numpy
"""
import json, os, struct, sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
H, L, NH, KV, D, F, V = 256, 4, 4, 2, 128, 768, 2048
t = {"model.embed_tokens.weight": rng.standard_normal((V, H)) * 0.5}
for i in range(L):
    p = f"model.layers.{i}."
    t[p+"input_layernorm.weight"] = 1 + 0.1*rng.standard_normal(H)
    for n, rows in (("q", NH*D), ("k", KV*D), ("v", KV*D)):
        t[p+f"self_attn.{n}_proj.weight"] = rng.uniform(-1, 1, (rows, H)) * np.sqrt(3/H)
    t[p+"self_attn.q_norm.weight"] = 1 + 0.3*rng.standard_normal(D)
    t[p+"self_attn.k_norm.weight"] = 1 + 0.3*rng.standard_normal(D)
    t[p+"self_attn.o_proj.weight"] = rng.uniform(-1, 1, (H, NH*D)) * np.sqrt(3/(NH*D))
    t[p+"post_attention_layernorm.weight"] = 1 + 0.1*rng.standard_normal(H)
    t[p+"mlp.gate_proj.weight"] = rng.uniform(-1, 1, (F, H)) * np.sqrt(3/H)
    t[p+"mlp.up_proj.weight"] = rng.uniform(-1, 1, (F, H)) * np.sqrt(3/H)
    t[p+"mlp.down_proj.weight"] = rng.uniform(-1, 1, (H, F)) * np.sqrt(3/F)
t["model.norm.weight"] = 1 + 0.1*rng.standard_normal(H)
t["lm_head.weight"] = rng.uniform(-1, 1, (V, H)) * np.sqrt(3/H)
header, off, blobs = {}, 0, []
for k, a in t.items():
    b = a.astype(np.float32).tobytes(); header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off+len(b)]}; off += len(b); blobs.append(b)
h = json.dumps(header).encode(); h += b" " * (-(len(h)+8) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h); [f.write(b) for b in blobs]
json.dump({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": H, "intermediate_size": F,
  "num_hidden_layers": L, "num_attention_heads": NH, "num_key_value_heads": KV, "head_dim": D, "vocab_size": V,
  "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": False,
  "hidden_act": "silu", "attention_bias": False, "use_sliding_window": False, "bos_token_id": 1, "eos_token_id": 2}, open(os.path.join(out, "config.json"), "w"))
