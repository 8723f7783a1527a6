#!/usr/bin/env python3
"""Helper of bench/kld_vs_llamacpp.sh (numpy; Debian's python3-numpy).

  kld_compare.py tokens BASE.kld TOKENS.json   the tokens llama-perplexity stored in its base file, each chunk's first
                                               replaced by BOS (id 1) as llama-perplexity does, for `folio logits`
  kld_compare.py table DIR                     the table: llama.cpp's figures (from its logs) beside Folio's

Folio's KL is computed as llama-perplexity computes its own: KL(base ‖ file) = Σ p_base (log p_base − log p_file) at the
logits of positions n_ctx/2 .. n_ctx−2 of every chunk, with Folio's F32 logits as Folio's base; "same top" is the share
of those positions whose argmax agrees. The last column scores Folio's logits against llama.cpp's stored F32 base (its
log-probabilities, kept in 16 bits by llama-perplexity) — the two engines against each other.
"""
import glob
import json
import re
import sys

import numpy as np

BOS = 1


def header(blob):
    if blob[:8] != b"_logits_":
        raise SystemExit("not a llama-perplexity KL base file")
    return (int(x) for x in np.frombuffer(blob[8:20], dtype=np.int32))


def tokens(base, out):
    blob = open(base, "rb").read()
    n_ctx, _, n_chunk = header(blob)
    toks = np.frombuffer(blob[20: 20 + 4 * n_chunk * n_ctx], dtype=np.int32).reshape(n_chunk, n_ctx).copy()
    toks[:, 0] = BOS
    json.dump(toks.tolist(), open(out, "w"))


def table(d):
    blob = open(f"{d}/base.kld", "rb").read()
    n_ctx, vocab, n_chunk = header(blob)
    first = n_ctx // 2
    positions = np.arange(first, n_ctx - 1)

    def folio(name):
        x = np.fromfile(f"{d}/folio-{name}.bin", dtype=np.float32).reshape(n_chunk, n_ctx, vocab)[:, positions]
        x = x.astype(np.float64)
        x -= x.max(-1, keepdims=True)
        return x - np.log(np.exp(x).sum(-1, keepdims=True))

    nv = 2 * ((vocab + 1) // 2) + 4   # llama-perplexity's row: scale and min (two floats), then 16-bit log-probs
    off = 20 + 4 * n_chunk * n_ctx
    raw = np.frombuffer(blob[off: off + 2 * nv * n_chunk * len(positions)], dtype=np.uint16)
    raw = raw.reshape(n_chunk, len(positions), nv)
    scale_min = raw[:, :, :4].copy().view(np.float32).astype(np.float64)
    llama_base = scale_min[..., 0:1] * raw[:, :, 4: 4 + vocab] + scale_min[..., 1:2]

    def kl(p, q):
        return (np.exp(p) * (p - q)).sum(-1)

    def llama(name, what):
        if name == "F32":
            return "(base)"
        log = open(f"{d}/llama-{name}.log").read()
        m = re.search(r"Mean +KLD: +([0-9.e+-]+)" if what == "kld" else r"Same top p: +([0-9.]+)", log)
        return m.group(1) + (" %" if what == "top" else "") if m else "?"

    base = folio("F32")
    print(f"{n_chunk} chunks of {n_ctx} tokens, {n_chunk * len(positions)} scored positions\n")
    print("| file | llama.cpp mean KLD | llama.cpp same top | Folio mean KLD (max) | Folio same top | "
          "Folio vs llama.cpp's F32 base, mean KLD |")
    print("|---|---|---|---|---|---|")
    scored = [f[len(f"{d}/folio-"):-len(".bin")] for f in sorted(glob.glob(f"{d}/folio-*.bin"))]
    order = ["F32", "F16", "Q8_0", "Q4_0", "Q4_K_M"]
    for name in [n for n in order if n in scored] + [n for n in scored if n not in order]:
        q = folio(name)
        k = kl(base, q)
        same = 100 * (base.argmax(-1) == q.argmax(-1)).mean()
        print(f"| {name} | {llama(name, 'kld')} | {llama(name, 'top')} | {k.mean():.6f} ({k.max():.6f}) | {same:.3f} % "
              f"| {kl(llama_base, q).mean():.2e} |")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "tokens":
        tokens(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        raise SystemExit(__doc__)
