"""fp32/fp64 references of folio_sample (the CPU sampler's semantics, managed/Folio.Core/Sampling/LogitsSampler.cs)
and a Python Philox-4x32-10, for tests/gpu/test_sampling.py."""
from __future__ import annotations

import numpy as np
import torch

M32 = 0xFFFFFFFF


def philox4x32_10(counter, key):
    c, k = list(counter), list(key)
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k[0]) & M32, p1 & M32, ((p0 >> 32) ^ c[3] ^ k[1]) & M32, p0 & M32]
        k = [(k[0] + 0x9E3779B9) & M32, (k[1] + 0xBB67AE85) & M32]
    return c


def gumbel(vocab, seed, draw):
    """The kernel's noise for ids 0..vocab-1, in fp32: -log(-log(u)), u in (0, 1) from Philox bits."""
    out = np.empty(vocab, dtype=np.float32)
    for g in range((vocab + 3) // 4):
        bits = philox4x32_10([g, draw & M32, draw >> 32, 0], [seed & M32, seed >> 32])
        for lane in range(4):
            i = 4 * g + lane
            if i < vocab:
                u = np.float32(bits[lane] >> 9) * np.float32(2.0 ** -23) + np.float32(2.0 ** -24)
                out[i] = -np.log(-np.log(u, dtype=np.float32), dtype=np.float32)
    return out


def prepare(logits_row, prompt=(), output=(), suppressed=(), rep=1.0, presence=0.0, frequency=0.0, valid=0):
    """Steps 1-3 of folio_sample in fp32 (numpy scalars keep every operation in fp32)."""
    w = logits_row.detach().float().cpu().numpy().astype(np.float32).copy()
    if valid:
        w[valid:] = -np.inf
    vocab = w.shape[0]
    rep, presence, frequency = np.float32(rep), np.float32(presence), np.float32(frequency)
    if rep != 1:
        for t in set(prompt) | set(output):
            if 0 <= t < vocab:
                w[t] = w[t] / rep if w[t] > 0 else w[t] * rep
    if presence != 0 or frequency != 0:
        counts = {}
        for t in output:
            counts[t] = counts.get(t, 0) + 1
        for t, c in counts.items():
            if 0 <= t < vocab:
                w[t] = w[t] - (frequency * np.float32(c) + presence)
    for t in suppressed:
        if 0 <= t < vocab:
            w[t] = -np.inf
    return w


def log_softmax(w):
    return torch.log_softmax(torch.from_numpy(w).double(), dim=0).numpy()


def kept_distribution(w, temperature, top_k=0, top_p=1.0, min_p=0.0):
    """The probabilities the draw follows: temperature, then top-k, top-p (over the top-k set), min-p; fp64."""
    order = sorted(range(len(w)), key=lambda i: (-w[i], i))
    mx = w[order[0]]
    inv_t = np.float32(1.0) / np.float32(temperature)
    d = {i: float(np.float32((w[i] - mx) * inv_t)) for i in order}
    n = len(order) if top_k <= 0 else min(top_k, len(order))
    cand = [i for i in order[:n] if np.isfinite(w[i])]
    total = sum(np.exp(d[i]) for i in cand)
    if top_p < 1.0:
        cum, keep = 0.0, len(cand)
        for j, i in enumerate(cand):
            cum += np.exp(d[i]) / total
            if cum >= top_p:
                keep = j + 1
                break
        cand = cand[:keep]
    if min_p > 0.0:
        keep = 1
        while keep < len(cand) and np.exp(d[cand[keep]]) >= min_p:
            keep += 1
        cand = cand[:keep]
    probs = np.zeros(len(w))
    z = sum(np.exp(d[i]) for i in cand)
    for i in cand:
        probs[i] = np.exp(d[i]) / z
    return probs


def chi2_critical(dof, z=4.265):
    """Wilson-Hilferty approximation of the chi-square quantile (z = 4.265: p = 1e-5)."""
    return dof * (1 - 2 / (9 * dof) + z * (2 / (9 * dof)) ** 0.5) ** 3
