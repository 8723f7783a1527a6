#!/usr/bin/env python3
"""Analytic and Monte Carlo models of the memory saved by sharing (issue 3, docs/SCHEDULER.md).

Standard library only. Reproduces the predictions written in docs/SCHEDULER.md before the engine runs:
  python3 bench/sharing_model.py parallel        # F and the parallel-sampling savings for the length models
  python3 bench/sharing_model.py beam [REQUESTS] # beam-search savings of the fake's beam step, in-step memory:
                                                 # independent candidates (the fake), renormalised, fully correlated
Lengths: AlpacaLengthModel's constants (managed/Folio.Core/Simulation/AlpacaLengthModel.cs) scaled to the
bench's means 19 / 58, or the previous independent log-normals (prompt sigma 0.6, output sigma 0.7).
"""
import math
import random
import sys

B = 16
SHARE = 0.40  # examples with an input (Stanford Alpaca README)
KINDS = {  # (prompt mean, prompt CV, output mean, output CV) from the 100-example sample
    "with_input": (21.26, 0.652, 34.85, 1.441),
    "no_input": (10.07, 0.397, 85.04, 0.818),
}


def lognormal(rng, mean, cv, maximum):
    """LengthDistribution.Sample: moment-matched log-normal, rounded, redrawn outside [1, maximum]."""
    s = math.sqrt(math.log(1 + cv * cv))
    mu = math.log(mean) - s * s / 2
    while True:
        v = math.exp(mu + s * rng.gauss(0, 1))
        if v >= maximum + 0.5:
            continue
        t = int(math.floor(v + 0.5))
        if 1 <= t <= maximum:
            return t


def alpaca_like(prompt_mean=19.0, output_mean=58.0):
    wi, ni = KINDS["with_input"], KINDS["no_input"]
    sp = prompt_mean / (SHARE * wi[0] + (1 - SHARE) * ni[0])
    so = output_mean / (SHARE * wi[2] + (1 - SHARE) * ni[2])

    def draw(rng):
        k = wi if rng.random() < SHARE else ni
        return lognormal(rng, k[0] * sp, k[1], 512), lognormal(rng, k[2] * so, k[3], 1024)
    return draw


def old_lognormal(rng):
    def ln(mean, sigma, maximum):
        mu = math.log(mean) - sigma * sigma / 2
        return int(min(max(round(math.exp(mu + sigma * rng.gauss(0, 1))), 1), maximum))
    return ln(19, 0.6, 512), ln(58, 0.7, 1024)


def parallel(draw, n=200_000, seed=3):
    """F = E[o * floor(p/B)] / E[sum_{t=1..o} ceil((p+t)/B)]; saving at width n = (n-1)/n * F."""
    rng = random.Random(seed)
    num = den = 0
    for _ in range(n):
        p, o = draw(rng)
        num += o * (p // B)
        den += sum(math.ceil((p + t) / B) for t in range(1, o + 1))
    return num / den


def candidates(rng, k, renormalise):
    """The fake's beam candidates: most likely first, gaps 0.05 + U[0, 2.5)."""
    out, lp = [], 0.0
    for _ in range(2 * k):
        lp -= 0.05 + rng.randrange(1000) / 400.0
        out.append(lp)
    if renormalise:
        m = max(out)
        lse = m + math.log(sum(math.exp(x - m) for x in out))
        if lse > 0:
            out = [x - lse for x in out]
    return out


def beam(k, mode, requests, seed=1, draw=None):
    """Saved % while steps compute. mode: 'independent' (the fake), 'renormalised', 'correlated'."""
    draw = draw or alpaca_like()
    rng = random.Random(seed)
    phys = logical = 0
    for _ in range(requests):
        p, o = draw(rng)
        logical += math.ceil(p / B)   # the prompt step: one sequence
        phys += math.ceil(p / B)
        beams = [(0.0, ())]
        node = 0
        for t in range(1, o + 1):
            shared = candidates(rng, k, False) if mode == "correlated" else None
            pool = []
            for i, (score, _) in enumerate(beams):
                cs = shared if shared is not None else candidates(rng, k, mode == "renormalised")
                pool.extend((score + c, i, r) for r, c in enumerate(cs))
            pool.sort(key=lambda x: -x[0])
            nxt = []
            for score, i, r in pool[:k]:
                node += 1
                nxt.append((score, beams[i][1] + (node,)))
            beams = nxt
            if t == o:
                break
            # The next step computes position p + t - 1 .. : each beam's table holds p + t tokens, its last block
            # copied if it was shared (copy-on-write). A block is shared iff the histories agree through its end.
            length = p + t
            blocks = math.ceil(length / B)
            logical += len(beams) * blocks
            full_prompt = p // B
            ids = set()
            for _, h in beams:
                for j in range(full_prompt, blocks):
                    ids.add((j, h[:max(0, min(length, (j + 1) * B) - p)]))
            phys += full_prompt + len(ids)
    return 100 * (1 - phys / logical)


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "parallel"
    if what == "parallel":
        for name, draw in (("alpaca-like (sample model)", alpaca_like()), ("previous log-normals", old_lognormal)):
            f = parallel(draw)
            print(f"{name}: F = {100 * f:.1f}%, n = 2/4/6 -> " + " / ".join(f"{100 * (n - 1) / n * f:.1f}%" for n in (2, 4, 6)))
    elif what == "beam":
        requests = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
        for mode in ("independent", "renormalised", "correlated"):
            print(mode + ": k = 2/4/6 -> " + " / ".join(f"{beam(k, mode, requests):.1f}%" for k in (2, 4, 6)))
    else:
        sys.exit("usage: sharing_model.py parallel|beam [REQUESTS]")


if __name__ == "__main__":
    main()
